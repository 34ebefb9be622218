"""N-way selection: each prompt goes to one of many models, priced by a table.

A router that names a model per prompt gets one (cost, quality) point; the oracle under a
price weight λ picks, per prompt, the model maximising score - λ·cost, and sweeping λ traces
the best achievable frontier that any N-way router can be compared with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tierlink.bench.metrics import pareto_frontier
from tierlink.core.errors import DataError


class SelectionPoint(BaseModel):
    """Mean quality and mean cost per prompt of one way of choosing models."""

    label: str
    quality: float
    cost: float


def outcome_matrices(frame: pd.DataFrame, models: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(score, cost) matrices prompt_id x model over prompts every chosen model answered."""
    chosen = frame if models is None else frame[frame["model"].isin(models)]
    if "cost_usd" not in chosen.columns or chosen["cost_usd"].isna().any():
        raise DataError("outcome table", "N-way selection needs cost_usd for every row", "use a dataset with a price table")
    scores = chosen.pivot(index="prompt_id", columns="model", values="score").dropna()
    costs = chosen.pivot(index="prompt_id", columns="model", values="cost_usd").loc[scores.index, scores.columns]
    return scores, costs


def evaluate_choices(choices: pd.Series, scores: pd.DataFrame, costs: pd.DataFrame, label: str) -> SelectionPoint:
    """Quality and cost when prompt p is answered by choices[p]."""
    unknown = set(choices.unique()) - set(scores.columns)
    if unknown:
        raise DataError("choices", f"unknown model(s) {', '.join(sorted(unknown))}", f"choose among {', '.join(scores.columns)}")
    aligned = choices.reindex(scores.index)
    if aligned.isna().any():
        raise DataError("choices", f"{int(aligned.isna().sum())} prompts have no chosen model", "choose a model for every prompt")
    rows = np.arange(len(scores))
    cols = scores.columns.get_indexer(aligned)
    return SelectionPoint(
        label=label,
        quality=float(scores.to_numpy()[rows, cols].mean()),
        cost=float(costs.to_numpy()[rows, cols].mean()),
    )


def single_model_points(scores: pd.DataFrame, costs: pd.DataFrame) -> list[SelectionPoint]:
    """One (quality, cost) point per model answering every prompt: the baselines to beat."""
    return [
        SelectionPoint(label=m, quality=float(scores[m].mean()), cost=float(costs[m].mean()))
        for m in scores.columns
    ]


def oracle_frontier(scores: pd.DataFrame, costs: pd.DataFrame, steps: int = 60) -> list[SelectionPoint]:
    """Per-prompt best model under price weights λ from 0 (quality only) to prohibitive."""
    s, c = scores.to_numpy(), costs.to_numpy()
    spread = float(c.max() - c.min()) or 1.0
    points = []
    for lam in np.concatenate([[0.0], np.geomspace(1e-3, 1e3, steps)]) / spread:
        pick = np.argmax(s - lam * c - 1e-12 * c, axis=1)
        rows = np.arange(len(s))
        points.append(SelectionPoint(label=f"oracle λ={lam:.3g}", quality=float(s[rows, pick].mean()), cost=float(c[rows, pick].mean())))
    keep = pareto_frontier(np.array([p.cost for p in points]), np.array([p.quality for p in points]))
    return [points[i] for i in sorted(keep, key=lambda i: points[i].cost)]
