"""Loader for RouterArena's cached results (Apache-2.0): real per-query tokens, dollars and scores.

Point it at a folder holding `cached_results/*.jsonl` (the full public release or the copy in
`../shared/data/outcomes/routerarena`) to get a canonical outcome table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tierlink.core.errors import DataError
from tierlink.core.outcomes import validate_outcomes


def load_routerarena(root: Path) -> pd.DataFrame:
    """One row per (query, model) from every cached_results/*.jsonl under `root`."""
    files = sorted((root / "cached_results").glob("*.jsonl"))
    if not files:
        raise DataError(str(root), "no cached_results/*.jsonl found", "point at RouterArena's root folder")
    rows = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("success", True):
                    rows.append(_row(record, model=path.stem))
    return validate_outcomes(pd.DataFrame(rows), str(root))


def _row(record: dict[str, Any], model: str) -> dict[str, Any]:
    result = record["evaluation_result"]
    tokens = record.get("token_usage") or {}
    query_id = record["global_index"]
    return {
        "prompt_id": query_id,
        "prompt": record["question"],
        "task": query_id.rsplit("_", 1)[0],
        "model": model,
        "score": min(1.0, max(0.0, float(result["score"]))),  # a few METEOR scores dip below 0
        "cost_usd": result.get("inference_cost"),
        "input_tokens": tokens.get("input_tokens"),
        "output_tokens": tokens.get("output_tokens"),
        "response": record.get("generated_answer"),
        "gold": _gold(result),
        "split": "test",
    }


def _gold(result: dict[str, Any]) -> str | None:
    """Gold answer; for multiple choice RouterArena stores a 0-based index or a lowercase letter,
    which we turn into the option letter shown in the prompt (0 -> A)."""
    truth = result.get("ground_truth")
    if truth is None:
        return None
    text = str(truth).strip()
    if result.get("metric") == "mcq_accuracy":
        if text.isdigit() and int(text) < 26:
            return chr(ord("A") + int(text))
        if len(text) == 1 and text.isalpha():
            return text.upper()
    return text
