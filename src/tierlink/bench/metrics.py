"""Routing metrics, as their papers define them.

- PGR / APGR / CPT(x%): RouteLLM (Ong et al., 2024). APGR = (AUC - weak AUC) / (strong AUC -
  weak AUC) over the strong-call share in [0, 1]; CPT(x%) = the smallest strong-call share whose
  PGR reaches x%.
- AIQ: RouterBench (Hu et al., 2024). Area under the non-decreasing convex hull of the
  (cost, quality) points, divided by the cost range.
- ΔIBC: AutoMix (Aggarwal et al., 2024). Incremental benefit per cost of a method over the
  weak model, relative to the strong model's: (IBC_M - IBC_base) / IBC_base x 100.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from tierlink.bench.curve import RoutingCurve
from tierlink.bench.pair import FloatArray


def apgr(curve: RoutingCurve) -> float:
    """Average performance gap recovered: normalised area under quality vs strong-call share."""
    gap = curve.strong_quality - curve.weak_quality
    if abs(gap) < 1e-12:
        return 0.0
    auc = float(np.trapezoid(curve.quality, curve.share))
    return (auc - curve.weak_quality) / gap


def cpt(curve: RoutingCurve, target_pgr: float) -> float:
    """Call-performance threshold: the least strong-call share reaching `target_pgr` (0..1).

    Linear between curve points; 1.0 if the curve never gets there before all-strong.
    """
    pgr = curve.pgr
    reached = np.flatnonzero(pgr >= target_pgr - 1e-12)
    if len(reached) == 0:
        return 1.0
    i = int(reached[0])
    if i == 0:
        return float(curve.share[0])
    x0, x1, y0, y1 = curve.share[i - 1], curve.share[i], pgr[i - 1], pgr[i]
    return float(x0 + (target_pgr - y0) * (x1 - x0) / (y1 - y0))


def upper_hull(cost: FloatArray, quality: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The non-decreasing upper convex hull of (cost, quality) points (RouterBench's AIQ hull)."""
    order = np.lexsort((-quality, cost))
    hull: list[tuple[float, float]] = []
    for c, q in zip(cost[order], quality[order], strict=True):
        if hull and q <= hull[-1][1]:
            continue  # non-decreasing: a costlier point must add quality
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], (c, q)) >= 0:
            hull.pop()
        hull.append((float(c), float(q)))
    xs, ys = zip(*hull, strict=True)
    return np.array(xs), np.array(ys)


def aiq(cost: FloatArray, quality: FloatArray, cost_range: tuple[float, float] | None = None) -> float:
    """Average improvement in quality: area under the hull over the cost range, divided by it.

    Past the hull's costliest point the best quality stays available (step function).
    """
    lo, hi = sorted(cost_range) if cost_range is not None else (float(cost.min()), float(cost.max()))
    if hi - lo < 1e-15:
        return float(quality.max())
    xs, ys = upper_hull(cost, quality)
    grid = np.unique(np.concatenate([[lo, hi], xs[(xs > lo) & (xs < hi)]]))
    values = np.interp(grid, xs, ys, left=np.nan, right=ys[-1])
    values = np.where(np.isnan(values), 0.0, values)  # below the cheapest point nothing is bought
    return float(np.trapezoid(values, grid) / (hi - lo))


def delta_ibc(curve: RoutingCurve) -> float:
    """Mean ΔIBC (%) over the curve's points costlier than the weak model (AutoMix).

    NaN when the strong model is not both costlier and better: the ratio is then undefined.
    """
    base = _ibc(curve.strong_quality, curve.strong_cost, curve)
    mask = curve.cost > curve.weak_cost + 1e-15
    if curve.strong_cost <= curve.weak_cost or not mask.any() or base is None or base <= 1e-15:
        return float("nan")
    ibc = (curve.quality[mask] - curve.weak_quality) / (curve.cost[mask] - curve.weak_cost)
    return float(np.mean((ibc - base) / base) * 100.0)


def pareto_frontier(cost: FloatArray, quality: FloatArray) -> np.ndarray:
    """Indices of the points no other point beats on both cost (lower) and quality (higher)."""
    order = np.lexsort((-quality, cost))
    best = -np.inf
    keep = []
    for i in order:
        if quality[i] > best + 1e-15:
            keep.append(int(i))
            best = quality[i]
    return np.array(keep, dtype=int)


class RoutingMetrics(BaseModel):
    """The summary of one router on one weak/strong pair.

    For a fixed policy (always-weak, always-strong) `kind` is 'point': apgr holds the PGR of its
    single operating point and CPT(x) is its share if that point reaches x, else 1.
    """

    kind: str = "curve"
    prompts: int
    weak_quality: float
    strong_quality: float
    weak_cost: float
    strong_cost: float
    cost_unit: str
    apgr: float
    cpt50: float
    cpt80: float
    aiq: float
    delta_ibc: float


def _references(curve: RoutingCurve, prompts: int, cost_unit: str) -> dict[str, int | float | str]:
    """The fields every summary repeats: size, and the weak and strong levels of the pair."""
    return {
        "prompts": prompts,
        "weak_quality": curve.weak_quality,
        "strong_quality": curve.strong_quality,
        "weak_cost": curve.weak_cost,
        "strong_cost": curve.strong_cost,
        "cost_unit": cost_unit,
    }


def summarize(curve: RoutingCurve, prompts: int, cost_unit: str) -> RoutingMetrics:
    """APGR, CPT(50%/80%), AIQ and ΔIBC of one router's curve, with the pair's reference levels."""
    return RoutingMetrics(
        **_references(curve, prompts, cost_unit),  # type: ignore[arg-type]
        apgr=apgr(curve),
        cpt50=cpt(curve, 0.5),
        cpt80=cpt(curve, 0.8),
        aiq=aiq(curve.cost, curve.quality, (curve.weak_cost, curve.strong_cost)),
        delta_ibc=delta_ibc(curve),
    )


def point_metrics(curve: RoutingCurve, share: float, prompts: int, cost_unit: str) -> RoutingMetrics:
    """Metrics of a policy that always sits at one strong-call share of `curve`."""
    pgr = float(np.interp(share, curve.share, curve.pgr))
    quality = float(np.interp(share, curve.share, curve.quality))
    cost = float(np.interp(share, curve.share, curve.cost))
    base = _ibc(curve.strong_quality, curve.strong_cost, curve)
    ibc = _ibc(quality, cost, curve)
    return RoutingMetrics(
        **_references(curve, prompts, cost_unit),  # type: ignore[arg-type]
        kind="point",
        apgr=pgr,
        cpt50=share if pgr >= 0.5 else 1.0,
        cpt80=share if pgr >= 0.8 else 1.0,
        aiq=quality,
        delta_ibc=float("nan") if base is None or ibc is None or base <= 0 else (ibc - base) / base * 100,
    )


def _ibc(quality: float, cost: float, curve: RoutingCurve) -> float | None:
    if abs(cost - curve.weak_cost) < 1e-15:
        return None
    return (quality - curve.weak_quality) / (cost - curve.weak_cost)


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
