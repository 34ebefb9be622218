"""Figures (matplotlib, headless): quality vs strong-call share with random and oracle references."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tierlink.bench.curve import RoutingCurve

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot() -> Any:
    """matplotlib, headless (no display on servers and CI), imported only when drawing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(
    curves: Mapping[str, RoutingCurve], weak: str, strong: str, title: str, path: Path, origin: str
) -> Path:
    """One PNG: every router's curve, the weak/strong levels; references drawn dashed."""
    fig, ax = _pyplot().subplots(figsize=(7, 4.5), dpi=120)
    any_curve = next(iter(curves.values()))
    for name, curve in curves.items():
        style = "--" if name in ("random", "oracle") else "-"
        ax.plot(100 * curve.share, curve.quality, style, label=name, linewidth=1.6)
    ax.axhline(any_curve.weak_quality, color="grey", linestyle=":", label=f"weak: {weak}")
    ax.axhline(any_curve.strong_quality, color="black", linestyle=":", label=f"strong: {strong}")
    ax.set_xlabel("strong-model calls (%)")
    ax.set_ylabel("mean quality")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path, origin)


def plot_selection(
    singles: list[tuple[str, float, float]], frontier: list[tuple[float, float]], title: str, path: Path, origin: str,
    learned: list[tuple[float, float]] | None = None,
) -> Path:
    """Cost vs quality: each single model as a point, the oracle N-way frontier as a line."""
    fig, ax = _pyplot().subplots(figsize=(7, 4.5), dpi=120)
    for label, cost, quality in singles:
        ax.scatter(cost, quality, s=18)
        ax.annotate(label, (cost, quality), fontsize=6, xytext=(3, 2), textcoords="offset points")
    if frontier:
        xs, ys = zip(*frontier, strict=True)
        ax.plot(xs, ys, "--", color="black", label="oracle N-way frontier")
    if learned:
        lx, ly = zip(*learned, strict=True)
        ax.plot(lx, ly, "-", color="tab:red", label="learned N-way router")
    if frontier or learned:
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xscale("symlog", linthresh=1e-6)
    ax.set_xlabel("mean cost per prompt (USD)")
    ax.set_ylabel("mean quality")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, path, origin)


BAND_EXCLUDES = ("oracle", "rl")  # references and the RL router sit outside the band they are judged by


def plot_tradeoffs(points: list[tuple[str, float, float, float]], title: str, path: Path, origin: str) -> Path:
    """The paper's Fig. 4: quality vs latency and quality vs cost, one point per policy, with the
    band the per-query policies span shaded (their convex hull in each view).

    `points` holds (policy, mean latency s, mean dollars, mean quality).
    """
    fig, (left, right) = _pyplot().subplots(1, 2, figsize=(10, 4.2), dpi=120, sharey=True)
    band = [p for p in points if not p[0].startswith(BAND_EXCLUDES)]
    for ax, column in ((left, 1), (right, 2)):
        _shade_hull(ax, [(p[column], p[3]) for p in band])
    for name, latency, dollars, quality in points:
        for ax, x in ((left, latency), (right, dollars)):
            ax.scatter(x, quality, s=30)
            ax.annotate(name, (x, quality), fontsize=7, xytext=(4, 3), textcoords="offset points")
    left.set_xlabel("mean latency per conversation (s)")
    right.set_xlabel("mean cost per conversation (USD)")
    left.set_ylabel("mean quality per turn")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path, origin)


def _shade_hull(ax: Any, xy: list[tuple[float, float]]) -> None:
    """Shade the convex hull of the points (the per-query band); nothing for fewer than three."""
    if len(xy) < 3:
        return
    from scipy.spatial import ConvexHull, QhullError

    array = np.asarray(xy, dtype=float)
    try:
        hull = ConvexHull(array)
    except QhullError:  # collinear points span no area
        return
    ax.fill(array[hull.vertices, 0], array[hull.vertices, 1], color="tab:blue", alpha=0.08,
            label="per-query policies' band")
    ax.legend(fontsize=7, loc="lower right")


def _save(fig: Figure, path: Path, origin: str) -> Path:
    """Every figure states where its numbers come from, then is written and released."""
    fig.text(0.01, 0.01, f"numbers: {origin}", fontsize=7, color="dimgrey")
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path
