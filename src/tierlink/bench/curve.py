"""The routing curve: quality and cost as the strong-call share goes from 0 to 1.

A router gives each prompt a score (higher = more benefit from the strong model). Routing the
k highest-scored prompts to the strong model, for every k, traces the full curve exactly:
sort once, cumulative sums, no threshold loop. Prompts with tied scores are routed together,
so the curve is linear between tie-group boundaries (the expectation over random tie-breaks);
a constant score is therefore exactly the random router's expected curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierlink.bench.pair import FloatArray, ModelPair


@dataclass(frozen=True)
class RoutingCurve:
    """Points of the curve, from all-weak (share 0) to all-strong (share 1)."""

    share: FloatArray  # strong-call share in [0, 1]
    quality: FloatArray  # mean score
    cost: FloatArray  # mean cost per prompt (USD, or strong calls when unpriced)
    weak_quality: float
    strong_quality: float
    weak_cost: float
    strong_cost: float
    thresholds: FloatArray  # score at or above which a prompt goes strong, per point

    @property
    def pgr(self) -> FloatArray:
        """Performance gap recovered at each point (RouteLLM)."""
        gap = self.strong_quality - self.weak_quality
        if abs(gap) < 1e-12:
            return np.zeros_like(self.quality)
        return (self.quality - self.weak_quality) / gap


def routing_curve(pair: ModelPair, scores: FloatArray) -> RoutingCurve:
    """The exact curve of a router's `scores` (aligned with `pair`)."""
    n = len(pair)
    if n == 0:
        raise ValueError("cannot trace a routing curve over zero prompts")
    if scores.shape != (n,) or not np.all(np.isfinite(scores)):
        raise ValueError("scores must be one finite number per prompt of the pair")
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    gain = np.concatenate([[0.0], np.cumsum((pair.strong_score - pair.weak_score)[order])])
    extra = np.concatenate([[0.0], np.cumsum((pair.strong_cost - pair.weak_cost)[order])])
    # Keep only the boundaries between tie groups: k = 0 and every k after which the score drops.
    boundaries = np.concatenate([[0], np.flatnonzero(np.diff(sorted_scores) != 0) + 1, [n]])
    weak_q, weak_c = pair.weak_score.mean(), pair.weak_cost.mean()
    thresholds = np.concatenate([[np.inf], sorted_scores[boundaries[1:] - 1]])
    return RoutingCurve(
        share=boundaries / n,
        quality=weak_q + gain[boundaries] / n,
        cost=weak_c + extra[boundaries] / n,
        weak_quality=float(weak_q),
        strong_quality=float(pair.strong_score.mean()),
        weak_cost=float(weak_c),
        strong_cost=float(pair.strong_cost.mean()),
        thresholds=thresholds,
    )


def sample_curve(curve: RoutingCurve, points: int) -> RoutingCurve:
    """The curve read at `points` evenly spaced strong-call shares (as RouteLLM's 10 cutoffs)."""
    share = np.linspace(0.0, 1.0, points)
    return RoutingCurve(
        share=share,
        quality=np.interp(share, curve.share, curve.quality),
        cost=np.interp(share, curve.share, curve.cost),
        weak_quality=curve.weak_quality,
        strong_quality=curve.strong_quality,
        weak_cost=curve.weak_cost,
        strong_cost=curve.strong_cost,
        thresholds=np.full(points, np.nan),
    )
