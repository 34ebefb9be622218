"""The shipped live-draft sets: which device drafted which questions, and whose recorded answers
are the cloud side (one place for the benchmark and the cascade calibration to agree on)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tierlink.bench.datasets import load_dataset, load_from
from tierlink.core.errors import DataError
from tierlink.data import shipped

DRAFT_FILES = {"gemma": "gemma3_270m", "qwen1.5b": "qwen2.5_coder_1.5b"}
STRONG = {"routerarena": "gemini-2.0-flash-001", "llmrouter": "qwen2.5-7b-instruct"}


def draft_path(device: str, which: str) -> Path:
    """The shipped drafts of `device` (gemma, qwen1.5b) on a set (routerarena, llmrouter)."""
    if device not in DRAFT_FILES or which not in STRONG:
        raise DataError(f"drafts {device}/{which}", "no such shipped draft set",
                        f"use a device of {', '.join(DRAFT_FILES)} and a set of {', '.join(STRONG)}")
    return shipped(f"drafts/{DRAFT_FILES[device]}_{which}_mcq.csv")


def recorded_outcomes(which: str, data_root: Path | None = None) -> pd.DataFrame:
    """The cloud side's recorded outcomes: the full RouterArena set from `data_root`, else the shipped slice."""
    if which == "routerarena" and data_root is not None:
        return load_from("routerarena", data_root)
    return load_dataset(str(shipped(f"{which}_mcq.csv")))
