"""A weak/strong pair aligned prompt by prompt: the arrays every binary routing metric reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tierlink.core.errors import DataError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ModelPair:
    """Scores and costs of the weak and strong model on the same prompts, in one order.

    When the table has no dollar figures, cost is normalised: weak 0, strong 1 per prompt, so
    cost equals the strong-call share (`cost_unit` says which).
    """

    weak: str
    strong: str
    prompt_ids: npt.NDArray[np.str_]
    prompts: npt.NDArray[np.str_]
    tasks: npt.NDArray[np.str_]
    weak_score: FloatArray
    strong_score: FloatArray
    weak_cost: FloatArray
    strong_cost: FloatArray
    cost_unit: str

    @classmethod
    def from_outcomes(cls, frame: pd.DataFrame, weak: str, strong: str) -> ModelPair:
        """Align `weak` and `strong` on the prompts both answered (one row each)."""
        for model in (weak, strong):
            if model not in set(frame["model"]):
                known = ", ".join(sorted(frame["model"].unique()))
                raise DataError("outcome table", f"no rows for model '{model}'", f"use one of: {known}")
        key = ["prompt_id"]
        cols = [*key, "prompt", "task", "score", *(["cost_usd"] if "cost_usd" in frame.columns else [])]
        w = frame.loc[frame["model"] == weak, cols]
        s = frame.loc[frame["model"] == strong, cols]
        both = w.merge(s, on=key, suffixes=("_w", "_s")).sort_values(key).reset_index(drop=True)
        if both.empty:
            raise DataError("outcome table", f"'{weak}' and '{strong}' share no prompts", "pick two models evaluated on the same prompts")
        ids = both["prompt_id"].astype(str)
        has_cost = "cost_usd_w" in both.columns and both[["cost_usd_w", "cost_usd_s"]].notna().all().all()
        n = len(both)
        return cls(
            weak=weak,
            strong=strong,
            prompt_ids=ids.to_numpy(dtype=str),
            prompts=both["prompt_w"].to_numpy(dtype=str),
            tasks=both["task_w"].to_numpy(dtype=str),
            weak_score=both["score_w"].to_numpy(dtype=float),
            strong_score=both["score_s"].to_numpy(dtype=float),
            weak_cost=both["cost_usd_w"].to_numpy(dtype=float) if has_cost else np.zeros(n),
            strong_cost=both["cost_usd_s"].to_numpy(dtype=float) if has_cost else np.ones(n),
            cost_unit="USD" if has_cost else "strong calls",
        )

    def __len__(self) -> int:
        return len(self.prompt_ids)

    def subset(self, mask: npt.NDArray[np.bool_]) -> ModelPair:
        """The pair restricted to the prompts where `mask` is true (for per-task breakdowns)."""
        return ModelPair(
            weak=self.weak,
            strong=self.strong,
            prompt_ids=self.prompt_ids[mask],
            prompts=self.prompts[mask],
            tasks=self.tasks[mask],
            weak_score=self.weak_score[mask],
            strong_score=self.strong_score[mask],
            weak_cost=self.weak_cost[mask],
            strong_cost=self.strong_cost[mask],
            cost_unit=self.cost_unit,
        )

    def align_scores(self, scores: pd.Series) -> FloatArray:
        """Router scores (indexed by prompt_id) in this pair's order; every prompt needs one."""
        missing = [pid for pid in self.prompt_ids if pid not in scores.index]
        if missing:
            raise DataError(
                "scores",
                f"{len(missing)} of {len(self)} test prompts have no score, e.g. {missing[0]}",
                "score every prompt_id of the test split (`tierlink bench route` writes a complete file)",
            )
        return scores.loc[list(self.prompt_ids)].to_numpy(dtype=float)
