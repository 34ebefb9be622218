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

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Prompts:
        """From a table with prompt_id, prompt and optionally task (one row per prompt)."""
        missing = {"prompt_id", "prompt"} - set(frame.columns)
        if missing:
            raise DataError("prompts", f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,prompt[,task]")
        unique = frame.drop_duplicates("prompt_id")
        tasks = unique["task"].astype(str).tolist() if "task" in unique.columns else [None] * len(unique)
        return cls(unique["prompt_id"].astype(str).to_numpy(), unique["prompt"].astype(str).tolist(), tasks)


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
            prompts=Prompts(pair.prompt_ids, pair.prompts.tolist(), pair.tasks.tolist()),
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
            prompts=Prompts(self.prompts.prompt_ids[index], [self.prompts.texts[i] for i in index],
                            [self.prompts.tasks[i] for i in index]),
            weak_score=self.weak_score[index],
            strong_score=self.strong_score[index],
            weak=self.weak,
            strong=self.strong,
            table=self.table[self.table["prompt_id"].isin(ids)],
        )
