"""Collect the device model's drafts with their live signals (log-probabilities, entropies,
agreement of k samples), graded against gold answers: the training data of a live post-hoc router.

The draft and the k samples are drawn exactly as the session draws them for a post-hoc policy
(`sampled_request`), so the features a router learns from are the ones it later reads live.
Rows are written to the output as they are collected, so an interrupted run resumes where it
stopped; a prompt the endpoint fails on is reported and left out, never written half.
"""

from __future__ import annotations

import math
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
    agreement_with,
    sampled_request,
    self_check_request,
    self_check_yes,
    signal_values,
)

ASKED_FOR = frozenset({"self_check"})  # written only when asked for: each costs another device call
SIGNAL_COLUMNS = tuple(f"{SIGNAL_PREFIX}{name}" for name in SIGNALS if name not in ASKED_FOR)
Progress = Callable[[int, int], None]


async def collect_drafts(
    endpoint: Endpoint,
    prompts: pd.DataFrame,
    out: Path,
    samples: int = 4,
    max_tokens: int = 16,
    progress: Progress | None = None,
    self_check: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Draft every prompt of `prompts` (prompt_id, prompt[, task, gold]) not yet in `out`.

    Returns the whole table in `out` and the failures (one line per prompt that failed)."""
    async def draft(row: dict[str, Any]) -> dict[str, Any]:
        return await _draft_row(endpoint, row, samples, max_tokens, self_check)
    return await _each_new_row(prompts, out, draft, progress)


async def extend_drafts(
    endpoint: Endpoint,
    drafts: pd.DataFrame,
    out: Path,
    samples: int,
    self_check: bool = False,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Add evidence to drafts already collected (more samples, a self-check), reusing each
    stored greedy draft: the samples are the ones a fresh collection with `samples` would draw."""
    missing = {"response", "samples", f"{SIGNAL_PREFIX}agreement"} - set(drafts.columns)
    if missing:
        raise DataError("drafts", f"missing column(s) {', '.join(sorted(missing))}", "give a table written by `route collect-drafts`")

    async def extend(row: dict[str, Any]) -> dict[str, Any]:
        return await _extended_row(endpoint, row, samples, self_check)
    return await _each_new_row(drafts, out, extend, progress)


async def _each_new_row(
    rows: pd.DataFrame, out: Path, make: Callable[[dict[str, Any]], Any], progress: Progress | None
) -> tuple[pd.DataFrame, list[str]]:
    """Write `make(row)` for every prompt not yet in `out`, appending as it goes (resumable)."""
    missing = {"prompt_id", "prompt"} - set(rows.columns)
    if missing:
        raise DataError("prompts", f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,prompt[,task,gold]")
    unique = rows.drop_duplicates("prompt_id")
    done = set(pd.read_csv(out, dtype={"prompt_id": str}, usecols=["prompt_id"])["prompt_id"]) if out.is_file() else set()
    todo = unique[~unique["prompt_id"].astype(str).isin(done)]
    failures: list[str] = []
    report = progress or (lambda finished, total: None)
    for index, row in enumerate(todo.to_dict("records")):
        try:
            record = await make(row)
        except EndpointError as exc:
            failures.append(f"{row['prompt_id']}: {exc}")
        else:
            pd.DataFrame([record]).to_csv(out, mode="a", header=not out.is_file(), index=False)
        report(index + 1, len(todo))
    if not out.is_file():
        return pd.DataFrame(), failures
    return read_table_csv(out), failures


async def _draft_row(endpoint: Endpoint, row: dict[str, Any], samples: int, max_tokens: int,
                     self_check: bool) -> dict[str, Any]:
    request = Request.of(str(row["prompt"]), prompt_id=str(row["prompt_id"]), max_tokens=max_tokens)
    started = time.perf_counter()
    draft = await endpoint.complete(request.model_copy(update={"logprobs": True}))
    drawn = tuple([await endpoint.complete(sampled_request(request, i)) for i in range(samples)])
    check = await endpoint.complete(self_check_request(request, draft.text)) if self_check else None
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
    values = signal_values(draft, drawn, check)
    if not self_check:
        del values["self_check"]
    record.update({f"{SIGNAL_PREFIX}{name}": value for name, value in values.items()})
    return record


async def _extended_row(endpoint: Endpoint, row: dict[str, Any], samples: int, self_check: bool) -> dict[str, Any]:
    """The row with agreement over `samples` (old samples kept, new ones drawn) and a self-check."""
    max_tokens = int(row.get("max_tokens") or 16)
    request = Request.of(str(row["prompt"]), prompt_id=str(row["prompt_id"]), max_tokens=max_tokens)
    text = "" if pd.isna(row["response"]) else str(row["response"])
    old = int(row["samples"])
    started = time.perf_counter()
    drawn = tuple([await endpoint.complete(sampled_request(request, i)) for i in range(old, samples)])
    record = dict(row)
    if drawn:
        old_share = float(row[f"{SIGNAL_PREFIX}agreement"]) if old else 0.0
        new_share = agreement_with(text, drawn) or 0.0
        record[f"{SIGNAL_PREFIX}agreement"] = (old_share * old + new_share * len(drawn)) / (old + len(drawn))
        record["samples"] = old + len(drawn)
    if self_check:
        record[f"{SIGNAL_PREFIX}self_check"] = _nan(self_check_yes(await endpoint.complete(self_check_request(request, text))))
    record["latency_s"] = float(row.get("latency_s") or 0.0) + time.perf_counter() - started
    return record


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
