"""Row access to a canonical outcome table, for replay: (model, prompt_id) -> Outcome.

Reading and validation live in `tierlink.core.outcomes`; this adds the lookups replay needs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.outcomes import read_outcomes, validate_outcomes


class Outcome(BaseModel):
    """What one model did on one prompt."""

    model_config = ConfigDict(frozen=True)

    prompt_id: str
    prompt: str
    task: str
    model: str
    score: float = Field(ge=0, le=1)
    cost_usd: float | None = Field(None, ge=0)
    input_tokens: int | None = Field(None, ge=0)
    output_tokens: int | None = Field(None, ge=0)
    latency_s: float | None = Field(None, ge=0)
    response: str | None = None
    split: str | None = None
    gold: str | None = None
    estimated: str | None = None


class OutcomeTable:
    """Outcomes indexed by (model, prompt_id) and by normalised prompt text."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = validate_outcomes(frame)
        self._rows = [_outcome(record) for record in self.frame.to_dict("records")]
        self._by_key = {(o.model, o.prompt_id): o for o in self._rows}
        self._id_by_text = {_normalise(o.prompt): o.prompt_id for o in self._rows}

    @classmethod
    def from_path(cls, path: Path) -> OutcomeTable:
        """Read a canonical table (CSV, JSONL or Parquet)."""
        return cls(read_outcomes(path))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def models(self) -> list[str]:
        """Every model with records, sorted: what a replay endpoint may name."""
        return sorted({o.model for o in self._rows})

    def prompt_ids(self) -> list[str]:
        """Prompt ids in first-seen order."""
        return list(dict.fromkeys(o.prompt_id for o in self._rows))

    def get(self, model: str, prompt_id: str) -> Outcome | None:
        """The record of `model` on `prompt_id`, or None when it never answered it."""
        return self._by_key.get((model, prompt_id))

    def prompt_id_for(self, text: str) -> str | None:
        """A prompt's id by its text (whitespace and case ignored), for requests without an id."""
        return self._id_by_text.get(_normalise(text))

    def rows(self) -> list[Outcome]:
        """Every outcome in table order (a new list, safe to change)."""
        return list(self._rows)


def _outcome(record: dict[str, Any]) -> Outcome:
    fields = {k: v for k, v in record.items() if k in Outcome.model_fields and not _missing(v)}
    for count in ("input_tokens", "output_tokens"):
        if count in fields:
            fields[count] = int(round(float(fields[count])))
    return Outcome(**fields)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()
