"""RouteLLM's GSM8K outcomes (Apache-2.0; GSM8K itself MIT): GPT-4-1106 vs Mixtral-8x7B.

`root` is the RouteLLM folder. Reads `routellm/evals/gsm8k/gsm8k_responses.csv` (correctness and
the full answer of both models per test question), takes the gold number from
`routellm/evals/gsm8k/test.jsonl` (the text after '#### ', thousands separators removed) and
drops prompts equal to an `eval_prompt` of `routellm/evals/gsm8k/contaminated_prompts.jsonl`
(the `train_prompt` field is the near-duplicate found in RouteLLM's *training* data, and RouteLLM's
benchmark filters on `eval_prompt`).

Tokens and cost are estimates (4 chars/token): output tokens from each recorded answer, input
tokens from the question alone (RouteLLM's calls also carried an 8-shot prefix, not counted).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tierlink.bench.loaders._common import (
    ESTIMATED_ALL,
    clean_number,
    cost_usd,
    require_file,
    short_hash,
    tokens_from_chars,
)
from tierlink.bench.loaders.prices import ROUTELLM
from tierlink.bench.loaders.routellm_mmlu import contaminated_prompts
from tierlink.core.errors import DataError
from tierlink.core.outcomes import validate_outcomes

RESPONSES = "routellm/evals/gsm8k/gsm8k_responses.csv"
TEST = "routellm/evals/gsm8k/test.jsonl"
CONTAMINATED = "routellm/evals/gsm8k/contaminated_prompts.jsonl"
MODELS = ("mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview")


def load(root: Path) -> pd.DataFrame:
    """One row per (GSM8K test question, model) with the model's answer and the gold number."""
    wide = pd.read_csv(require_file(root, RESPONSES, "RouteLLM"), keep_default_na=False)
    wide = wide[~wide["prompt"].isin(contaminated_prompts(root, CONTAMINATED))]
    gold = gold_answers(root)
    missing = wide.loc[~wide["prompt"].isin(gold.index), "prompt"]
    if len(missing):
        raise DataError(
            str(root / TEST),
            f"{len(missing)} questions of {RESPONSES} have no gold answer, "
            f"e.g. {missing.iloc[0][:60]!r}",
            "use the test.jsonl that ships next to gsm8k_responses.csv",
        )
    parts = []
    for model in MODELS:
        parts.append(
            pd.DataFrame(
                {
                    "prompt_id": "gsm8k-" + wide["prompt"].map(short_hash),
                    "prompt": wide["prompt"],
                    "task": "gsm8k",
                    "model": model,
                    "score": wide[model].map(_truth).astype(float),
                    "response": wide[f"{model}_response"].astype(str),
                    "gold": wide["prompt"].map(gold),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["input_tokens"] = tokens_from_chars(frame["prompt"].str.len())
    frame["output_tokens"] = tokens_from_chars(frame["response"].str.len())
    frame["cost_usd"] = cost_usd(
        frame["input_tokens"], frame["output_tokens"], frame["model"].map(ROUTELLM)
    )
    frame["split"] = "test"
    frame["estimated"] = ESTIMATED_ALL
    return validate_outcomes(frame, str(root / RESPONSES))


def gold_answers(root: Path) -> pd.Series:
    """question text -> gold number (the part of the worked answer after '#### ')."""
    test = pd.read_json(require_file(root, TEST, "RouteLLM"), lines=True)
    answers = test["answer"].astype(str)
    if not answers.str.contains("#### ", regex=False).all():
        raise DataError(
            str(root / TEST), "an answer lacks the '#### <number>' line", "use GSM8K's test.jsonl"
        )
    numbers = answers.str.rsplit("#### ", n=1).str[1].map(clean_number)
    return (
        pd.Series(numbers.to_numpy(), index=test["question"].astype(str)).groupby(level=0).first()
    )


def _truth(value: object) -> bool:
    """The CSV stores correctness as True/False text."""
    return str(value).strip().lower() in ("true", "1", "1.0")
