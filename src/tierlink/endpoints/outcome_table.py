"""The canonical outcome table: one row per (prompt, model) with what the model really did.

Columns: prompt_id, prompt, task, model, score (0..1) are required; cost_usd, input_tokens,
output_tokens, latency_s, response, split and gold are optional. Any benchmark's recorded
results can be converted to it and then replayed or evaluated.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tierlink.core.errors import ConfigError

REQUIRED_COLUMNS = ("prompt_id", "prompt", "task", "model", "score")


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


class OutcomeTable:
    """Outcomes indexed by (model, prompt_id) and by prompt text."""

    def __init__(self, outcomes: Iterable[Outcome]) -> None:
        self._rows = list(outcomes)
        self._by_key = {(o.model, o.prompt_id): o for o in self._rows}
        self._id_by_text = {_normalise(o.prompt): o.prompt_id for o in self._rows}

    @classmethod
    def from_csv(cls, path: Path) -> OutcomeTable:
        """Read a canonical CSV; a missing column or bad value names the row and the fix."""
        if not path.exists():
            raise ConfigError(
                "outcomes", f"file {path} does not exist", "give the path of an outcome CSV"
            )
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(
                    "outcomes",
                    f"{path} lacks column(s) {', '.join(missing)}",
                    f"the table needs the columns {', '.join(REQUIRED_COLUMNS)}",
                )
            return cls(_parse(row, path, line) for line, row in enumerate(reader, start=2))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def models(self) -> list[str]:
        return sorted({o.model for o in self._rows})

    def prompt_ids(self) -> list[str]:
        """Prompt ids in first-seen order."""
        return list(dict.fromkeys(o.prompt_id for o in self._rows))

    def get(self, model: str, prompt_id: str) -> Outcome | None:
        return self._by_key.get((model, prompt_id))

    def prompt_id_for(self, text: str) -> str | None:
        return self._id_by_text.get(_normalise(text))

    def rows(self) -> list[Outcome]:
        return list(self._rows)


def _parse(row: dict[str, str], path: Path, line: int) -> Outcome:
    cleaned = {k: v for k, v in row.items() if k is not None and v not in ("", None)}
    try:
        return Outcome(**cleaned)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"outcomes[{path.name}:{line}].{field}",
            first["msg"],
            "fix that cell; score must lie in 0..1 and counts must be non-negative",
        ) from exc


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()
