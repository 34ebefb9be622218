"""Training and scoring inputs of a router, built from the canonical outcome table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tierlink.bench.pair import ModelPair
from tierlink.core.errors import DataError


@dataclass(frozen=True)
class Prompts:
    """What a router sees at scoring time: ids, texts and (optional) task labels."""

    prompt_ids: npt.NDArray[np.str_]
    texts: list[str]
    tasks: list[str | None]
    drafts: list[str | None] | None = None  # the weak (device) model's answer, for post-hoc routers
    draft_tokens: list[float] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: npt.NDArray[np.int64]) -> Prompts:
        return Prompts(
            self.prompt_ids[index],
            [self.texts[i] for i in index],
            [self.tasks[i] for i in index],
            None if self.drafts is None else [self.drafts[i] for i in index],
            None if self.draft_tokens is None else [self.draft_tokens[i] for i in index],
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Prompts:
        """From a table with prompt_id, prompt and optionally task (one row per prompt)."""
        missing = {"prompt_id", "prompt"} - set(frame.columns)
        if missing:
            raise DataError("prompts", f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,prompt[,task]")
        unique = frame.drop_duplicates("prompt_id")
        tasks = unique["task"].astype(str).tolist() if "task" in unique.columns else [None] * len(unique)
        drafts = unique["draft"].fillna("").astype(str).tolist() if "draft" in unique.columns else None
        draft_tokens = (
            unique["draft_tokens"].astype(float).tolist() if "draft_tokens" in unique.columns else None
        )
        return cls(unique["prompt_id"].astype(str).to_numpy(), unique["prompt"].astype(str).tolist(), tasks,
                   drafts, draft_tokens)


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
    return Prompts(pair.prompt_ids, pair.prompts.tolist(), pair.tasks.tolist(), drafts, draft_tokens)
