"""Loader for RouterArena's cached results (Apache-2.0): real per-query tokens, dollars and scores.

Point it at a folder holding `cached_results/*.jsonl` (the full public release or the copy in
`../shared/data/outcomes/routerarena`) to get canonical outcome rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tierlink.core.errors import ConfigError
from tierlink.endpoints.outcome_table import Outcome


def load_routerarena(root: Path) -> Iterator[Outcome]:
    """Yield one Outcome per (query, model) from every cached_results/*.jsonl under `root`."""
    files = sorted((root / "cached_results").glob("*.jsonl"))
    if not files:
        raise ConfigError(
            "routerarena", f"no cached_results/*.jsonl under {root}", "point at RouterArena's root"
        )
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if not record.get("success", True):
                    continue
                yield _outcome(record, model=path.stem)


def _outcome(record: dict, model: str) -> Outcome:
    result = record["evaluation_result"]
    tokens = record.get("token_usage") or {}
    query_id = record["global_index"]
    return Outcome(
        prompt_id=query_id,
        prompt=record["question"],
        task=query_id.rsplit("_", 1)[0],
        model=model,
        score=min(1.0, max(0.0, float(result["score"]))),  # a few METEOR scores dip below 0
        cost_usd=result.get("inference_cost"),
        input_tokens=tokens.get("input_tokens"),
        output_tokens=tokens.get("output_tokens"),
        response=record.get("generated_answer"),
        gold=_gold(result),
        split="test",
    )


def _gold(result: dict) -> str | None:
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
