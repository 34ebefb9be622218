"""Agents that answer from recorded outcomes: for each question, which models were right and how
long their outputs were (ZeroEval GSM8K's 42 models), so a thousand agents cost no model calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tierlink.bench.datasets import load_from
from tierlink.core.errors import DataError


@dataclass(frozen=True)
class RecordedAgents:
    """Per (model, question): right or not, and output tokens (estimated from characters)."""

    questions: tuple[str, ...]
    outcomes: dict[tuple[str, str], tuple[bool, int]]
    _models: dict[str, tuple[str, ...]]

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
        return cls(questions, outcomes, {q: tuple(m) for q, m in models.items()})

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
