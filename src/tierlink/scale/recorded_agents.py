"""Agents that answer from recorded outcomes: for each question, which models were right and how
long their outputs were (ZeroEval GSM8K's 42 models), so a thousand agents cost no model calls."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from tierlink.bench.datasets import load_from
from tierlink.core.errors import DataError
from tierlink.core.tokens import CHARS_PER_TOKEN

A = TypeVar("A", int, str)


def plurality_revision(own: A, heard: Sequence[A], rng: random.Random) -> A:
    """A replayed agent's revision (a simulation assumption): the plurality of its own answer and
    those it heard; its own wins a tie, else a seeded draw among the tied."""
    tally = Counter(heard)
    tally[own] += 1
    best = max(tally.values())
    tied = sorted(a for a, n in tally.items() if n == best)
    return own if own in tied else rng.choice(tied)


@dataclass(frozen=True)
class RecordedAgents:
    """Per (model, question): right or not, and output tokens (estimated from characters)."""

    questions: tuple[str, ...]
    outcomes: dict[tuple[str, str], tuple[bool, int]]
    _models: dict[str, tuple[str, ...]]
    prompt_tokens: dict[str, int] = field(default_factory=dict)  # each question's length, where the table has it

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RecordedAgents:
        """From an outcome table (prompt_id, model, score, output_tokens)."""
        if frame.empty:
            raise DataError("outcomes", "no recorded outcomes", "load a dataset with rows (e.g. zeroeval-gsm8k)")
        outcomes = {(str(r.model), str(r.prompt_id)): (bool(r.score >= 0.5), max(1, int(r.output_tokens)))
                    for r in frame.itertuples(index=False)}
        models: dict[str, list[str]] = {}
        for model, question in sorted(outcomes):
            models.setdefault(question, []).append(model)
        questions = tuple(sorted(models))
        prompts = {}
        if "prompt" in frame.columns:
            texts = frame.drop_duplicates("prompt_id").set_index("prompt_id")["prompt"].astype(str)
            prompts = {str(q): max(1, len(t) // CHARS_PER_TOKEN) for q, t in texts.items()}
        return cls(questions, outcomes, {q: tuple(m) for q, m in models.items()}, prompts)

    @classmethod
    def load(cls, key: str = "zeroeval-gsm8k", data_root: Path | None = None) -> RecordedAgents:
        """A dataset's outcomes: the shipped slice, or the full set under `data_root`."""
        return cls.from_frame(load_from(key, data_root))

    def models_for(self, question: str) -> tuple[str, ...]:
        """The models recorded on `question`, in name order."""
        return self._models[question]

    def correct(self, model: str, question: str) -> bool:
        """Was `model` right on `question`?"""
        return self.outcomes[(model, question)][0]

    def output_tokens(self, model: str, question: str) -> int:
        """How long `model`'s answer to `question` was, in tokens."""
        return self.outcomes[(model, question)][1]
