"""Collect the device model's drafts with their live signals (log-probabilities, entropies,
agreement of k samples), graded against gold answers: the training data of a live post-hoc router.

The draft and the k samples are drawn exactly as the session draws them for a post-hoc policy
(`sampled_request`), so the features a router learns from are the ones it later reads live.
Rows are written to the output as they are collected, so an interrupted run resumes where it
stopped; a prompt the endpoint fails on is reported and left out, never written half.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tierlink.core.errors import DataError, EndpointError
from tierlink.core.grading import grade
from tierlink.core.messages import Request
from tierlink.core.outcomes import read_table_csv
from tierlink.endpoints.base import Endpoint
from tierlink.learn.data import SIGNAL_PREFIX
from tierlink.routing.draft_signals import (
    SIGNALS,
    sampled_request,
    signal_values,
)

SIGNAL_COLUMNS = tuple(f"{SIGNAL_PREFIX}{name}" for name in SIGNALS)
Progress = Callable[[int, int], None]


async def collect_drafts(
    endpoint: Endpoint,
    prompts: pd.DataFrame,
    out: Path,
    samples: int = 4,
    max_tokens: int = 16,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Draft every prompt of `prompts` (prompt_id, prompt[, task, gold]) not yet in `out`.

    Returns the whole table in `out` and the failures (one line per prompt that failed)."""
    missing = {"prompt_id", "prompt"} - set(prompts.columns)
    if missing:
        raise DataError("prompts", f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,prompt[,task,gold]")
    unique = prompts.drop_duplicates("prompt_id")
    done = set(pd.read_csv(out, dtype={"prompt_id": str}, usecols=["prompt_id"])["prompt_id"]) if out.is_file() else set()
    todo = unique[~unique["prompt_id"].astype(str).isin(done)]
    failures: list[str] = []
    report = progress or (lambda finished, total: None)
    for index, row in enumerate(todo.to_dict("records")):
        try:
            record = await _draft_row(endpoint, row, samples, max_tokens)
        except EndpointError as exc:
            failures.append(f"{row['prompt_id']}: {exc}")
        else:
            pd.DataFrame([record]).to_csv(out, mode="a", header=not out.is_file(), index=False)
        report(index + 1, len(todo))
    if not out.is_file():
        return pd.DataFrame(), failures
    return read_table_csv(out), failures


async def _draft_row(endpoint: Endpoint, row: dict[str, Any], samples: int, max_tokens: int) -> dict[str, Any]:
    request = Request.of(str(row["prompt"]), prompt_id=str(row["prompt_id"]), max_tokens=max_tokens)
    started = time.perf_counter()
    draft = await endpoint.complete(request.model_copy(update={"logprobs": True}))
    drawn = tuple([await endpoint.complete(sampled_request(request, i)) for i in range(samples)])
    record: dict[str, Any] = {
        "prompt_id": str(row["prompt_id"]),
        "prompt": str(row["prompt"]),
        "task": str(row.get("task") or ""),
        "model": endpoint.name,
        "response": draft.text,
        "input_tokens": draft.usage.input_tokens,
        "output_tokens": draft.usage.output_tokens,
        "latency_s": time.perf_counter() - started,
        "samples": samples,
        "max_tokens": max_tokens,
    }
    gold = row.get("gold")
    if isinstance(gold, str) and gold.strip():
        record["gold"] = gold
        record["score"] = grade(draft.text, gold)
    record.update({f"{SIGNAL_PREFIX}{name}": value for name, value in signal_values(draft, drawn).items()})
    return record
