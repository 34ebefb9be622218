"""LLMRouter's DC-Router outcomes (MIT; items keep their benchmarks' licences): 9 NVIDIA-NIM models.

`root` is the LLMRouter folder (github.com/ulab-uiuc/LLMRouter layout). Scores come from
`data/dcrouter_preprocessed/{train,test}.json` (question + 0..1 score per model); each question
is joined on its exact text with `data/example_data/query_data/default_query_{train,test}.jsonl`
(same split) for task_name and ground_truth (-> gold). The split is the file's. Eight train query
texts occur twice with different tasks (e.g. mmlu and openbook_qa share a stem); the first in
file order wins.

Nothing is deduplicated here: 119 test questions also appear in train (all GPQA and HumanEval,
19 MBPP) and stay, so the harness's split module can be shown to remove them. Ids are
`llmrouter-<split>-<sha1[:12]>` so the same text in both splits gets two ids.

Cost is an estimate from `data/example_data/llm_candidates/default_llm.json` (NVIDIA NIM $/M):
input tokens from the question at 4 chars/token (the benchmark's answer choices and prompt
template are not in the question text, so this undercounts), output tokens an assumed length per
metric (`ASSUMED_OUTPUT_TOKENS`; LLMRouter's per-response token logs are not in this release).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlink.bench.loaders._common import (
    ESTIMATED_ALL,
    cost_usd,
    require_file,
    short_hash,
    tokens_from_chars,
)
from tierlink.bench.loaders.prices import NVIDIA_NIM, Price
from tierlink.core.errors import DataError
from tierlink.core.outcomes import validate_outcomes

SCORES = "data/dcrouter_preprocessed/{split}.json"
QUERIES = "data/example_data/query_data/default_query_{split}.jsonl"
LLMS = "data/example_data/llm_candidates/default_llm.json"
SPLITS = ("train", "test")

# Assumed answer lengths (tokens) by LLMRouter metric: a letter or short span for multiple choice
# and QA, a worked solution for maths, a function for code. Assumptions, not measurements.
ASSUMED_OUTPUT_TOKENS = {
    "em_mc": 16,
    "f1_score": 32,
    "commongen_coverage": 48,
    "GSM8K": 256,
    "MATH": 384,
    "code_eval": 256,
}
DEFAULT_OUTPUT_TOKENS = 128


def load(root: Path) -> pd.DataFrame:
    """One row per (question, model) for both splits, leaks between them included."""
    prices = model_prices(root)
    parts = [_split(root, split) for split in SPLITS]
    frame = pd.concat(parts, ignore_index=True)
    unpriced = sorted(set(frame["model"]) - set(prices))
    if unpriced:
        raise DataError(
            str(root / LLMS),
            f"no price for model(s) {', '.join(unpriced)}",
            "use the default_llm.json of the same LLMRouter release",
        )
    frame["cost_usd"] = cost_usd(
        frame["input_tokens"], frame["output_tokens"], frame["model"].map(prices)
    )
    frame["estimated"] = ESTIMATED_ALL
    return validate_outcomes(frame.drop(columns="metric"), str(root / "data"))


def model_prices(root: Path) -> dict[str, Price]:
    """model -> $/M input and output tokens from default_llm.json."""
    with require_file(root, LLMS, "LLMRouter").open(encoding="utf-8") as handle:
        table: dict[str, dict[str, Any]] = json.load(handle)
    return {
        name: Price(float(entry["input_price"]), float(entry["output_price"]), NVIDIA_NIM)
        for name, entry in table.items()
    }


def model_sizes(root: Path) -> dict[str, float]:
    """model -> billions of parameters as written in default_llm.json ('7B' -> 7.0)."""
    with require_file(root, LLMS, "LLMRouter").open(encoding="utf-8") as handle:
        table: dict[str, dict[str, Any]] = json.load(handle)
    return {name: float(str(entry["size"]).rstrip("Bb")) for name, entry in table.items()}


def _split(root: Path, split: str) -> pd.DataFrame:
    with require_file(root, SCORES.format(split=split), "LLMRouter").open(
        encoding="utf-8"
    ) as handle:
        items: list[dict[str, Any]] = json.load(handle)
    queries = pd.read_json(
        require_file(root, QUERIES.format(split=split), "LLMRouter"), lines=True, dtype=False
    )
    meta = queries.drop_duplicates("query", keep="first").set_index("query")
    rows = []
    for item in items:
        question = str(item["question"])
        if question not in meta.index:
            raise DataError(
                str(root / SCORES.format(split=split)),
                f"question {question[:60]!r} is not in {QUERIES.format(split=split)}",
                "use the query files of the same LLMRouter release (the join is on exact text)",
            )
        info = meta.loc[question]
        for model, score in item["scores"].items():
            rows.append(
                {
                    "prompt_id": f"llmrouter-{split}-{short_hash(question)}",
                    "prompt": question,
                    "task": str(info["task_name"]),
                    "model": model,
                    "score": score,
                    "gold": _text(info["ground_truth"]),
                    "split": split,
                    "metric": str(info["metric"]),
                }
            )
    frame = pd.DataFrame(rows)
    frame["input_tokens"] = tokens_from_chars(frame["prompt"].str.len())
    frame["output_tokens"] = (
        frame["metric"].map(ASSUMED_OUTPUT_TOKENS).fillna(DEFAULT_OUTPUT_TOKENS)
    )
    return frame


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)
