"""Signals read from a device draft to accept it or escalate (the cascade's evidence).

Mean token log-probability and mean entropy come from llama.cpp; agreement is the share of k
sampled drafts whose normalised answer equals the greedy draft's; self-check is the device's
own yes/no verdict on its draft.
"""

from __future__ import annotations

import math
import re

from tierlink.core.grading import answer_key
from tierlink.core.messages import Completion, Request

_CHOICE_TOKEN = re.compile(r"^\(?([A-J])\)?$")
SAMPLE_TEMPERATURE = 0.8
SAMPLE_SEED = 1000
# The numeric evidence a learned post-hoc router reads (NaN where a draft lacks it).
SIGNALS = ("mean_logprob", "min_logprob", "mean_entropy", "first_margin", "choice_share", "agreement", "draft_tokens",
           "self_check")
SELF_CHECK_TEMPLATE = (
    "Question: {question}\nProposed answer: {answer}\n"
    "Is the proposed answer correct? Reply yes or no."
)


def mean_logprob(draft: Completion) -> float | None:
    """The draft's mean token log-probability; None without logprobs."""
    return draft.mean_logprob


def mean_entropy(draft: Completion) -> float | None:
    """Mean per-token entropy of the draft; None without entropies (e.g. a replayed draft)."""
    if not draft.token_entropies:
        return None
    return sum(draft.token_entropies) / len(draft.token_entropies)


def agreement(draft: Completion, samples: tuple[Completion, ...]) -> float | None:
    """Share of samples that give the same answer as the draft (answer_key)."""
    return agreement_with(draft.text, samples)


def agreement_with(text: str, samples: tuple[Completion, ...]) -> float | None:
    """Share of samples whose answer (answer_key) is that of `text`; None without samples."""
    if not samples:
        return None
    target = answer_key(text)
    return sum(answer_key(s.text) == target for s in samples) / len(samples)


def label_share(top: dict[str, float] | None, wanted: str, other: str) -> float | None:
    """P(wanted) / (P(wanted) + P(other)) from one step's top log-probs, summing the variants of
    each label (' yes', 'Yes', ...). None if neither label is among the top tokens."""
    if not top:
        return None
    mass = {wanted: 0.0, other: 0.0}
    for token, logprob in top.items():
        key = token.strip().lower()
        if key in mass:
            mass[key] += math.exp(logprob)
    total = mass[wanted] + mass[other]
    return mass[wanted] / total if total > 0 else None


def self_check_yes(check: Completion | None) -> float | None:
    """Probability-like 'yes' from the verdict: top log-probs if present, else the text."""
    if check is None:
        return None
    share = label_share(check.top_logprobs[0] if check.top_logprobs else None, "yes", "no")
    if share is not None:
        return share
    text = check.text.strip().lower()
    return 1.0 if text.startswith("yes") else 0.0 if text.startswith("no") else None


def self_check_request(request: Request, draft_text: str) -> Request:
    """The device's yes/no verdict on its own draft: the session and draft collection ask the same."""
    prompt = SELF_CHECK_TEMPLATE.format(question=request.last_user_text, answer=draft_text)
    return Request.of(prompt, max_tokens=2, logprobs=True, turn=request.turn)


def sampled_request(request: Request, index: int) -> Request:
    """The index-th extra draft for agreement: the session and draft collection draw the same ones."""
    return request.model_copy(update={"temperature": SAMPLE_TEMPERATURE, "seed": SAMPLE_SEED + index, "logprobs": False})


def first_margin(draft: Completion) -> float | None:
    """Log-prob gap between the two likeliest first tokens: small when the model hesitates."""
    if not draft.top_logprobs or len(draft.top_logprobs[0]) < 2:
        return None
    best, second = sorted(draft.top_logprobs[0].values(), reverse=True)[:2]
    return best - second


def choice_share(draft: Completion) -> float | None:
    """At the first step whose likeliest token is an option letter (A-J), that letter's share of
    the probability on all option letters: how sure a multiple-choice answer is. None if the
    draft names no letter."""
    for top in draft.top_logprobs or ():
        if not top:
            continue
        best = max(top, key=lambda token: top[token])
        match = _CHOICE_TOKEN.match(best.strip())
        if not match:
            continue
        mass: dict[str, float] = {}
        for token, logprob in top.items():
            letter = _CHOICE_TOKEN.match(token.strip())
            if letter:
                mass[letter.group(1)] = mass.get(letter.group(1), 0.0) + math.exp(logprob)
        return mass[match.group(1)] / sum(mass.values())
    return None


def signal_values(draft: Completion, samples: tuple[Completion, ...], check: Completion | None = None) -> dict[str, float]:
    """Every signal in SIGNALS for one draft (NaN where unavailable), for learned post-hoc routers."""
    values: dict[str, float | None] = {
        "mean_logprob": mean_logprob(draft),
        "min_logprob": min(draft.token_logprobs) if draft.token_logprobs else None,
        "mean_entropy": mean_entropy(draft),
        "first_margin": first_margin(draft),
        "choice_share": choice_share(draft),
        "agreement": agreement(draft, samples),
        "draft_tokens": float(draft.usage.output_tokens),
        "self_check": self_check_yes(check),
    }
    return {name: math.nan if value is None else float(value) for name, value in values.items()}
