"""RouteLLM's MMLU outcomes (Apache-2.0): GPT-4-1106 vs Mixtral-8x7B correctness on 14,042 items.

`root` is the RouteLLM folder (github.com/lm-sys/RouteLLM layout): it holds
`mmlu_all_subjects_gpt4_vs_mixtral.csv` (the 57 `routellm/evals/mmlu/responses/mmlu_<subject>.csv`
files concatenated with a `subject` column) and `routellm/evals/mmlu/contaminated_prompts.jsonl`.
As RouteLLM's own benchmark does (`routellm/evals/benchmarks.py`), prompts whose text equals an
`eval_prompt` of the contamination list are dropped.

The source has no gold letter, tokens or cost. RouteLLM asked for one token (`max_new_tokens=1`
in `routellm/evals/mmlu/generate_responses.py`), so output_tokens = 1; input tokens are estimated
from the question text alone at 4 chars/token (the real calls also carried a 5-shot prefix of up
to 1,536 tokens, not counted here), and cost from the list prices in `prices.ROUTELLM`.
MMLU repeats 105 question texts (e.g. in clinical_knowledge and college_medicine); each copy is
kept, the second one with a `-2` suffix on its id, as RouteLLM scores both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tierlink.bench.loaders._common import (
    ESTIMATED_ALL,
    cost_usd,
    require_file,
    short_hash,
    tokens_from_chars,
)
from tierlink.bench.loaders.prices import ROUTELLM
from tierlink.core.outcomes import validate_outcomes

MMLU_CSV = "mmlu_all_subjects_gpt4_vs_mixtral.csv"
CONTAMINATED = "routellm/evals/mmlu/contaminated_prompts.jsonl"
MODELS = ("mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview")
OUTPUT_TOKENS = 1  # max_new_tokens=1 in RouteLLM's generate_responses.py


def load(root: Path) -> pd.DataFrame:
    """One row per (MMLU question, model), decontaminated as RouteLLM does."""
    wide = pd.read_csv(require_file(root, MMLU_CSV, "RouteLLM"))
    wide = wide[~wide["prompt"].isin(contaminated_prompts(root, CONTAMINATED))]
    wide = wide.assign(prompt_id=_ids(wide["prompt"]))
    parts = []
    for model in MODELS:
        part = pd.DataFrame(
            {
                "prompt_id": wide["prompt_id"],
                "prompt": wide["prompt"],
                "task": "mmlu/" + wide["subject"].astype(str),
                "model": model,
                "score": wide[model].astype(float),
            }
        )
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["input_tokens"] = tokens_from_chars(frame["prompt"].str.len())
    frame["output_tokens"] = float(OUTPUT_TOKENS)
    frame["cost_usd"] = cost_usd(
        frame["input_tokens"], frame["output_tokens"], frame["model"].map(ROUTELLM)
    )
    frame["split"] = "test"
    frame["estimated"] = ESTIMATED_ALL  # output_tokens=1 is inferred from the config, not logged
    return validate_outcomes(frame, str(root / MMLU_CSV))


def contaminated_prompts(root: Path, relative: str) -> set[str]:
    """The eval-side texts RouteLLM flagged (the file pairs each with the training prompt)."""
    flagged = pd.read_json(require_file(root, relative, "RouteLLM"), lines=True)
    return set(flagged["eval_prompt"].astype(str))


def _ids(prompts: pd.Series) -> pd.Series:
    base = "mmlu-" + prompts.map(short_hash)
    repeat = base.groupby(base).cumcount()
    return base.where(repeat == 0, base + "-" + (repeat + 1).astype(str))
