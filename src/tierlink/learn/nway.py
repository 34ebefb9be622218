"""N-way routing: predict every model's quality on a prompt, pick the best value under a price table.

One quality predictor per model (logistic regression for 0/1 scores, ridge otherwise) on the
prompt features; a prompt goes to argmax_m (predicted quality_m - λ · price_m), and sweeping λ
traces the router's cost-quality frontier, to be compared with each single model and with the
oracle's frontier (AIQ over the same cost range).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression, Ridge

from tierlink.bench.metrics import aiq, pareto_frontier
from tierlink.bench.nway import (
    SelectionPoint,
    evaluate_choices,
    oracle_frontier,
    outcome_matrices,
    single_model_points,
)
from tierlink.core.errors import DataError
from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer

NWAY_FILE = "nway.joblib"


class NWayRouter:
    """Per-model quality predictors and the mean price of each model (USD per prompt)."""

    def __init__(self) -> None:
        self.featurizer = Featurizer()
        self.models: dict[str, LogisticRegression | Ridge] = {}
        self.prices: dict[str, float] = {}
        self.joined: dict[str, float] = {}  # models added without retraining: their ability offset
        self.blends: dict[str, dict[str, float]] = {}  # joined with `blend`: their weight on each trained model's logit

    def join(self, name: str, price: float, probes: Prompts, outcomes: npt.ArrayLike, cache: EmbeddingCache,
             prior: float = 1.0, blend: bool = False) -> float:
        """Add a model at run time from its price and a few probe outcomes, without retraining:
        its quality on a prompt is σ(θ + logit of the trained models' mean predicted quality), a
        Rasch-style item difficulty the trained predictors already give. θ is the one number
        fitted, by maximum a posteriori on the probes (prior N(0, prior²)); returned. With
        `blend`, the logits of the trained models are weighted too (`fit_blend`), so a newcomer
        that is right where one trained model is right borrows that model's per-prompt strengths."""
        y = np.asarray(outcomes, dtype=float)
        if len(y) != len(probes.prompt_ids) or len(y) == 0:
            raise DataError("probes", f"{len(y)} outcomes for {len(probes.prompt_ids)} probe prompts", "give one 0/1 outcome per probe")
        if not self.models:
            raise DataError("router", "no trained model to anchor a new one on", "train the router on at least one model first")
        trained = self._trained(probes, cache)
        if blend:
            theta, weights = fit_blend(_logits(trained), y, prior)
            self._blends()[name] = dict(zip(trained.columns, weights, strict=True))
            self.joined[name], self.prices[name] = theta, float(price)
            return theta
        self._blends().pop(name, None)
        difficulty = self._difficulty(trained)
        theta = 0.0
        for _ in range(50):  # Newton steps on a concave log-posterior
            p = 1 / (1 + np.exp(-(theta + difficulty)))
            gradient = float(np.sum(y - p)) - theta / prior**2
            curvature = float(np.sum(p * (1 - p))) + 1 / prior**2
            theta += gradient / curvature
            if abs(gradient) < 1e-9:
                break
        self.joined[name], self.prices[name] = theta, float(price)
        return theta

    def leave(self, name: str) -> None:
        """Remove a model (trained or joined): it is never chosen again."""
        if name not in self.prices:
            raise DataError("router", f"no model '{name}'", f"use one of {', '.join(self.prices)}")
        self.models.pop(name, None)
        self.joined.pop(name, None)
        self._blends().pop(name, None)
        del self.prices[name]

    def _blends(self) -> dict[str, dict[str, float]]:
        """The blended joins' weights (a router saved before blends existed gets an empty set)."""
        if not hasattr(self, "blends"):
            self.blends = {}
        return self.blends

    @staticmethod
    def _difficulty(trained: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Per prompt, the logit of the trained models' mean predicted quality."""
        mean = np.clip(trained.to_numpy(dtype=float).mean(axis=1), 1e-3, 1 - 1e-3)
        return np.log(mean / (1 - mean))

    def fit(self, frame: pd.DataFrame, cache: EmbeddingCache) -> NWayRouter:
        """A quality predictor per model (logistic for 0/1 scores, else ridge) and its mean price."""
        scores, costs = outcome_matrices(frame)
        table = frame.drop_duplicates("prompt_id").set_index("prompt_id").loc[scores.index]
        prompts = Prompts(scores.index.to_numpy(dtype=str), table["prompt"].astype(str).tolist(), table["task"].astype(str).tolist())
        self.featurizer = self.featurizer.fit(prompts)
        x = self.featurizer.transform(prompts, cache)
        for model in scores.columns:
            y = scores[model].to_numpy()
            binary = set(np.unique(y)) <= {0.0, 1.0} and len(np.unique(y)) == 2
            predictor: LogisticRegression | Ridge = (
                LogisticRegression(C=0.5, max_iter=200, solver="newton-cholesky") if binary else Ridge(alpha=1.0))
            self.models[str(model)] = predictor.fit(x, y.astype(int) if binary else y)
            self.prices[str(model)] = float(costs[model].mean())
        return self

    def predict(self, prompts: Prompts, cache: EmbeddingCache) -> pd.DataFrame:
        """Predicted quality of every model on every prompt (rows: prompt ids, columns: models),
        joined models included."""
        trained = self._trained(prompts, cache)
        if not getattr(self, "joined", None):
            return trained
        difficulty = self._difficulty(trained)
        blends, logits = self._blends(), _logits(trained)
        joined = {}
        for name, theta in self.joined.items():
            if name in blends:
                weights = np.array([blends[name].get(m, 0.0) for m in trained.columns])
                joined[name] = 1 / (1 + np.exp(-(theta + logits @ weights)))
            else:
                joined[name] = 1 / (1 + np.exp(-(theta + difficulty)))
        return trained.assign(**joined)

    def _trained(self, prompts: Prompts, cache: EmbeddingCache) -> pd.DataFrame:
        """The trained predictors' qualities on `prompts`."""
        x = self.featurizer.transform(prompts, cache)
        columns = {}
        for name, predictor in self.models.items():
            if isinstance(predictor, LogisticRegression):
                columns[name] = predictor.predict_proba(x)[:, list(predictor.classes_).index(1)]
            else:
                columns[name] = predictor.predict(x)
        return pd.DataFrame(columns, index=prompts.prompt_ids)

    def save(self, directory: Path) -> None:
        """Write the router (joblib) where `load_nway` reads it (only load directories you trust)."""
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, directory / NWAY_FILE)

    def choose(self, predicted: pd.DataFrame, weight: float) -> pd.Series:
        """Per prompt, the model with the best predicted quality minus weight x price."""
        prices = np.array([self.prices[m] for m in predicted.columns])
        values = predicted.to_numpy() - weight * prices
        return pd.Series(predicted.columns[np.argmax(values, axis=1)], index=predicted.index)


def _logits(predicted: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Each trained model's predicted quality as a logit (clipped away from 0 and 1)."""
    p = np.clip(predicted.to_numpy(dtype=float), 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


def fit_blend(logits: npt.NDArray[np.float64], y: npt.NDArray[np.float64], prior: float = 1.0,
              spread: float = 0.5) -> tuple[float, npt.NDArray[np.float64]]:
    """MAP fit of σ(θ + logits · β) to the probe outcomes: θ ~ N(0, prior²), and each β_m ~
    N(1/M, spread²), centred on the plain average of the trained models so that few probes
    stay close to the one-offset join."""
    n_models = logits.shape[1]
    design = np.hstack([np.ones((len(y), 1)), logits])
    centre = np.concatenate([[0.0], np.full(n_models, 1.0 / n_models)])
    scale = np.concatenate([[prior], np.full(n_models, spread)]) ** 2

    def objective(params: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        z = design @ params
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + np.sum((params - centre) ** 2 / (2 * scale)))
        gradient = design.T @ (1 / (1 + np.exp(-z)) - y) + (params - centre) / scale
        return loss, gradient

    found = minimize(objective, centre, jac=True, method="L-BFGS-B")
    return float(found.x[0]), np.asarray(found.x[1:], dtype=float)


def load_nway(directory: Path) -> NWayRouter:
    """An N-way router saved by `tierlink bench nway --save DIR`."""
    path = directory / NWAY_FILE
    if not path.is_file():
        raise DataError(str(directory), f"no {NWAY_FILE} here", "train one with `tierlink bench nway -o TABLE --save DIR`")
    router: Any = joblib.load(path)
    if not isinstance(router, NWayRouter):
        raise DataError(str(path), "does not hold an N-way router", "train one with `tierlink bench nway --save DIR`")
    return router


class NWayEvaluation(BaseModel):
    """The router's, each model's and the oracle's points on test, and their AIQ over one range."""

    prompts: int
    models: list[SelectionPoint]
    router: list[SelectionPoint]
    oracle: list[SelectionPoint]
    aiq_router: float
    aiq_oracle: float
    aiq_best_single: float


def evaluate_nway(router: NWayRouter, test: pd.DataFrame, cache: EmbeddingCache, steps: int = 40) -> NWayEvaluation:
    """The router's frontier on the test prompts against single models and the oracle."""
    scores, costs = outcome_matrices(test)
    table = test.drop_duplicates("prompt_id").set_index("prompt_id").loc[scores.index]
    prompts = Prompts(scores.index.to_numpy(dtype=str), table["prompt"].astype(str).tolist(), table["task"].astype(str).tolist())
    predicted = router.predict(prompts, cache)[list(scores.columns)]
    spread = max(router.prices.values()) - min(router.prices.values()) or 1.0
    points = []
    for weight in np.concatenate([[0.0], np.geomspace(1e-3, 1e3, steps)]) / spread:
        points.append(evaluate_choices(router.choose(predicted, weight), scores, costs, f"λ={weight:.3g}"))
    keep = pareto_frontier(np.array([p.cost for p in points]), np.array([p.quality for p in points]))
    frontier = [points[i] for i in sorted(keep, key=lambda i: points[i].cost)]
    singles = single_model_points(scores, costs)
    oracle = oracle_frontier(scores, costs)
    lo = min(p.cost for p in singles)
    hi = max(p.cost for p in singles)

    def area(front: list[SelectionPoint]) -> float:
        return aiq(np.array([p.cost for p in front]), np.array([p.quality for p in front]), (lo, hi))

    single_hull = [singles[i] for i in pareto_frontier(np.array([p.cost for p in singles]), np.array([p.quality for p in singles]))]
    return NWayEvaluation(prompts=len(scores), models=singles, router=frontier, oracle=oracle,
                          aiq_router=area(frontier), aiq_oracle=area(oracle), aiq_best_single=area(single_hull))


def frontier_arrays(points: list[SelectionPoint]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Costs and qualities of the points as arrays, for plotting and AIQ."""
    return np.array([p.cost for p in points]), np.array([p.quality for p in points])
