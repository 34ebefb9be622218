"""Signals read from a device draft to accept it or escalate (the cascade's evidence).

Mean token log-probability and mean entropy come from llama.cpp; agreement is the share of k
sampled drafts whose normalised answer equals the greedy draft's; self-check is the device's
own yes/no verdict on its draft.
"""

from __future__ import annotations

import math
import re

from tierlink.core.messages import Completion

_WORDS = re.compile(r"[a-z0-9]+")
SELF_CHECK_TEMPLATE = (
    "Question: {question}\nProposed answer: {answer}\n"
    "Is the proposed answer correct? Reply yes or no."
)


def normalised_answer(text: str, words: int = 8) -> str:
    """First words of an answer, lower-cased and without punctuation, for agreement checks."""
    return " ".join(_WORDS.findall(text.lower())[:words])


def mean_logprob(draft: Completion) -> float | None:
    return draft.mean_logprob


def mean_entropy(draft: Completion) -> float | None:
    if not draft.token_entropies:
        return None
    return sum(draft.token_entropies) / len(draft.token_entropies)


def agreement(draft: Completion, samples: tuple[Completion, ...]) -> float | None:
    """Share of samples that give the same (normalised) answer as the draft."""
    if not samples:
        return None
    target = normalised_answer(draft.text)
    return sum(normalised_answer(s.text) == target for s in samples) / len(samples)


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
