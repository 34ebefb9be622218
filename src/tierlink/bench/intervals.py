"""Bootstrap intervals for APGR over test prompts: how far a router's figure could move on
another draw of prompts, and whether one router's lead over another survives that (paired)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from tierlink.bench.curve import routing_curve
from tierlink.bench.metrics import apgr
from tierlink.bench.pair import FloatArray, ModelPair


class Interval(BaseModel):
    """A point estimate with its 95% percentile-bootstrap interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _draws(n: int, draws: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, n) for _ in range(draws)]


def _apgr_on(pair: ModelPair, scores: FloatArray, index: np.ndarray) -> float:
    return apgr(routing_curve(pair.subset(index), scores[index]))


def apgr_intervals(pair: ModelPair, scores: Mapping[str, FloatArray], draws: int = 300,
                   seed: int = 0) -> dict[str, Interval]:
    """APGR of each router's scores, with intervals from the same resamples of the test prompts."""
    samples = _draws(len(pair), draws, seed)
    out = {}
    for name, values in scores.items():
        boot = [_apgr_on(pair, values, index) for index in samples]
        out[name] = Interval(value=apgr(routing_curve(pair, values)), low=float(np.percentile(boot, 2.5)),
                             high=float(np.percentile(boot, 97.5)))
    return out


def apgr_difference(pair: ModelPair, first: FloatArray, second: FloatArray, draws: int = 300, seed: int = 0) -> Interval:
    """APGR(first) − APGR(second), paired over the same resampled prompts."""
    boot = [_apgr_on(pair, first, index) - _apgr_on(pair, second, index) for index in _draws(len(pair), draws, seed)]
    value = apgr(routing_curve(pair, first)) - apgr(routing_curve(pair, second))
    return Interval(value=value, low=float(np.percentile(boot, 2.5)), high=float(np.percentile(boot, 97.5)))
