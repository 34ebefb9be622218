"""Training and scoring inputs of a router, built from the canonical outcome table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tierlink.bench.pair import ModelPair
from tierlink.core.errors import DataError

SIGNAL_PREFIX = "signal_"


@dataclass(frozen=True)
class Prompts:
    """What a router sees at scoring time: ids, texts and (optional) task labels."""

    prompt_ids: npt.NDArray[np.str_]
    texts: list[str]
    tasks: list[str | None]
    drafts: list[str | None] | None = None  # the weak (device) model's answer, for post-hoc routers
    draft_tokens: list[float] | None = None
    # live draft signals by name (log-probs, entropy, agreement...; NaN where missing)
    signals: dict[str, npt.NDArray[np.float64]] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: npt.NDArray[np.int64]) -> Prompts:
        """The prompts at `index`, drafts and signals included, so subsets stay aligned."""
        return Prompts(
            self.prompt_ids[index],
            [self.texts[i] for i in index],
            [self.tasks[i] for i in index],
            None if self.drafts is None else [self.drafts[i] for i in index],
            None if self.draft_tokens is None else [self.draft_tokens[i] for i in index],
            None if self.signals is None else {name: values[index] for name, values in self.signals.items()},
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Prompts:
        """From a table with prompt_id, prompt and optionally task, and for post-hoc routers the
        draft (`draft` or `response`), its length (`draft_tokens` or `output_tokens`) and
        `signal_*` columns as `tierlink route collect-drafts` writes them (one row per prompt)."""
        missing = {"prompt_id", "prompt"} - set(frame.columns)
        if missing:
            raise DataError("prompts", f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,prompt[,task]")
        unique = frame.drop_duplicates("prompt_id")
        tasks = unique["task"].astype(str).tolist() if "task" in unique.columns else [None] * len(unique)
        text_column = next((c for c in ("draft", "response") if c in unique.columns), None)
        drafts = unique[text_column].fillna("").astype(str).tolist() if text_column else None
        length_column = next((c for c in ("draft_tokens", "output_tokens") if c in unique.columns), None)
        draft_tokens = unique[length_column].astype(float).tolist() if length_column else None
        return cls(unique["prompt_id"].astype(str).to_numpy(), unique["prompt"].astype(str).tolist(), tasks,
                   drafts, draft_tokens, signals_of(unique))


@dataclass(frozen=True)
class PairData:
    """Prompts with the weak and strong model's recorded scores (and the whole table for MF)."""

    prompts: Prompts
    weak_score: npt.NDArray[np.float64]
    strong_score: npt.NDArray[np.float64]
    weak: str
    strong: str
    table: pd.DataFrame

    @classmethod
    def from_outcomes(cls, frame: pd.DataFrame, weak: str, strong: str) -> PairData:
        """The pair's aligned prompts and scores from an outcome table (the table kept for MF)."""
        pair = ModelPair.from_outcomes(frame, weak, strong)
        return cls(
            prompts=prompts_of(pair, frame),
            weak_score=pair.weak_score,
            strong_score=pair.strong_score,
            weak=weak,
            strong=strong,
            table=frame,
        )

    @property
    def gain(self) -> npt.NDArray[np.float64]:
        """How much the strong model adds on each prompt (the oracle's score)."""
        return self.strong_score - self.weak_score

    def subset(self, index: npt.NDArray[np.int64]) -> PairData:
        """The rows at `index` with the table cut to their prompts: a fold that leaks no other prompt."""
        ids = set(self.prompts.prompt_ids[index].tolist())
        return PairData(
            prompts=self.prompts.take(index),
            weak_score=self.weak_score[index],
            strong_score=self.strong_score[index],
            weak=self.weak,
            strong=self.strong,
            table=self.table[self.table["prompt_id"].isin(ids)],
        )


def prompts_of(pair: ModelPair, frame: pd.DataFrame) -> Prompts:
    """The pair's prompts with the weak model's recorded answer as the draft, where recorded."""
    weak_rows = frame[frame["model"] == pair.weak].drop_duplicates("prompt_id").set_index("prompt_id")
    drafts: list[str | None] | None = None
    if "response" in weak_rows.columns and weak_rows["response"].notna().any():
        drafts = [str(v) if isinstance(v, str) else "" for v in weak_rows["response"].reindex(pair.prompt_ids)]
    draft_tokens = None
    if "output_tokens" in weak_rows.columns and weak_rows["output_tokens"].notna().any():
        draft_tokens = weak_rows["output_tokens"].reindex(pair.prompt_ids).fillna(0).astype(float).tolist()
    return Prompts(pair.prompt_ids, pair.prompts.tolist(), pair.tasks.tolist(), drafts, draft_tokens,
                   signals_of(weak_rows.reindex(pair.prompt_ids)))


def signals_of(frame: pd.DataFrame) -> dict[str, npt.NDArray[np.float64]] | None:
    """The `signal_*` columns (live draft signals) of a table, by signal name; None if it has none."""
    columns = [c for c in frame.columns if str(c).startswith(SIGNAL_PREFIX)]
    if not columns:
        return None
    return {c[len(SIGNAL_PREFIX):]: pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64) for c in columns}
