"""Bootstrap intervals for APGR over test prompts: how far a router's figure could move on
another draw of prompts, and whether one router's lead over another survives that (paired).

Each resample's recovered area is divided by the *full sample's* strong−weak gap, so an
interval measures how the routed area moves, not how a resample's own near-zero gap blows a
ratio up (a draw where the two models tie would otherwise give APGR ±∞)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from tierlink.bench.curve import routing_curve
from tierlink.bench.metrics import apgr
from tierlink.bench.pair import FloatArray, ModelPair
from tierlink.core.errors import DataError


class Interval(BaseModel):
    """A point estimate with its 95% percentile-bootstrap interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _draws(n: int, draws: int, seed: int) -> list[np.ndarray]:
    if n == 0:
        raise DataError("test prompts", "no prompts to resample", "score the routers on at least one test prompt")
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, n) for _ in range(draws)]


def _gap(pair: ModelPair, scores: FloatArray) -> float:
    """The full sample's strong − weak quality: the fixed denominator of every resample."""
    curve = routing_curve(pair, scores)
    return curve.strong_quality - curve.weak_quality


def _recovered_area(pair: ModelPair, scores: FloatArray, index: np.ndarray) -> float:
    """Area under the resample's quality curve above its all-weak quality."""
    curve = routing_curve(pair.subset(index), scores[index])
    return float(np.trapezoid(curve.quality, curve.share)) - curve.weak_quality


def _interval(value: float, boot: list[float]) -> Interval:
    return Interval(value=value, low=float(np.percentile(boot, 2.5)), high=float(np.percentile(boot, 97.5)))


def apgr_intervals(pair: ModelPair, scores: Mapping[str, FloatArray], draws: int = 300,
                   seed: int = 0) -> dict[str, Interval]:
    """APGR of each router's scores, with intervals from the same resamples of the test prompts."""
    samples = _draws(len(pair), draws, seed)
    out = {}
    for name, values in scores.items():
        gap = _gap(pair, values)
        if abs(gap) < 1e-12:  # the two models tie: APGR is 0 by definition, on every draw
            out[name] = Interval(value=0.0, low=0.0, high=0.0)
            continue
        boot = [_recovered_area(pair, values, index) / gap for index in samples]
        out[name] = _interval(apgr(routing_curve(pair, values)), boot)
    return out


def apgr_difference(pair: ModelPair, first: FloatArray, second: FloatArray, draws: int = 300, seed: int = 0) -> Interval:
    """APGR(first) − APGR(second), paired over the same resampled prompts."""
    samples = _draws(len(pair), draws, seed)
    gap = _gap(pair, first)
    value = apgr(routing_curve(pair, first)) - apgr(routing_curve(pair, second))
    if abs(gap) < 1e-12:
        return Interval(value=value, low=value, high=value)
    boot = [(_recovered_area(pair, first, index) - _recovered_area(pair, second, index)) / gap for index in samples]
    return _interval(value, boot)


def mean_interval(values: FloatArray | list[float], draws: int = 2000, seed: int = 0) -> Interval:
    """A mean with its 95% percentile-bootstrap interval over the items (tasks, questions, models)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise DataError("values", "no values to take a mean of", "give at least one value")
    boot = data[np.random.default_rng(seed).integers(0, len(data), (draws, len(data)))].mean(axis=1)
    return _interval(float(data.mean()), list(boot))
