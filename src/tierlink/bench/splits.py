"""Deterministic train/test splits that cannot leak a test prompt into training.

A prompt's split comes from a hash of its id (stable across runs and machines). Then every
training prompt whose normalised text equals a test prompt's is dropped: the same question
under two ids (LLMRouter ships 119 such leaks) would otherwise reward memorisation.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

_SPACE = re.compile(r"\s+")


class SplitReport(BaseModel):
    """What the split did."""

    train_prompts: int
    test_prompts: int
    leaked_removed: int
    source_split: bool


def normalise_prompt(text: str) -> str:
    """Case- and whitespace-insensitive form used to find the same prompt under two ids."""
    return _SPACE.sub(" ", text).strip().lower()


def default_test_fraction(outcomes: str) -> float:
    """A table file is the user's own test table (all of it); a dataset key keeps its 30% test split."""
    return 1.0 if Path(outcomes).suffix else 0.3


def hash_split(prompt_id: str, test_fraction: float, seed: int = 0) -> str:
    """'test' for about `test_fraction` of ids, chosen by a seeded SHA-256 of the id."""
    digest = hashlib.sha256(f"{seed}:{prompt_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if bucket < test_fraction else "train"


def split_outcomes(
    frame: pd.DataFrame, test_fraction: float = 0.3, seed: int = 0, use_source_split: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, SplitReport]:
    """(train, test, report). With `use_source_split`, the table's own `split` column decides;
    a `test_fraction` of 1 makes the whole table the test split (a user's own test table)."""
    if not 0 < test_fraction <= 1:
        raise ValueError(f"test_fraction must lie in (0, 1], got {test_fraction}")
    if use_source_split and "split" in frame.columns:
        split = frame["split"].fillna("train").map(lambda s: "test" if str(s) == "test" else "train")
    else:
        ids = frame["prompt_id"].drop_duplicates()
        by_id = {pid: hash_split(pid, test_fraction, seed) for pid in ids}
        split = frame["prompt_id"].map(by_id)
    test = frame[split == "test"]
    train = frame[split == "train"]
    test_texts = set(test["prompt"].map(normalise_prompt))
    leaked = train["prompt"].map(normalise_prompt).isin(test_texts)
    report = SplitReport(
        train_prompts=int(train.loc[~leaked, "prompt_id"].nunique()),
        test_prompts=int(test["prompt_id"].nunique()),
        leaked_removed=int(train.loc[leaked, "prompt_id"].nunique()),
        source_split=bool(use_source_split and "split" in frame.columns),
    )
    return (
        train[~leaked].reset_index(drop=True).assign(split="train"),
        test.reset_index(drop=True).assign(split="test"),
        report,
    )
