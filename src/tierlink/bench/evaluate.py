"""One evaluation run: a dataset, a weak/strong pair, a leak-free test split, routers' scores.

Every run states where its numbers come from: quality is always *replay* (recorded outcomes of
real models); cost is replay when the source recorded dollars and *simulated* when tierlink
estimated them (characters -> tokens -> a sourced price table), or a normalised strong-call
count when there is no price at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tierlink.bench.baselines import FIXED_SHARE, oracle
from tierlink.bench.curve import RoutingCurve, routing_curve, sample_curve
from tierlink.bench.metrics import RoutingMetrics, point_metrics, summarize
from tierlink.bench.pair import FloatArray, ModelPair
from tierlink.bench.splits import SplitReport, split_outcomes

REFERENCES = ("random", "oracle")


@dataclass(frozen=True)
class Prepared:
    """The test pair to score, the training rows a learned router may use, and provenance."""

    dataset: str
    pair: ModelPair
    train: pd.DataFrame
    split: SplitReport
    cost_origin: str


class Evaluation(BaseModel):
    """Metrics of each router (references included), overall and per task."""

    dataset: str
    weak: str
    strong: str
    split: SplitReport
    quality_origin: str = "replay"
    cost_origin: str
    points: int | None
    overall: dict[str, RoutingMetrics]
    per_task: dict[str, dict[str, RoutingMetrics]]


def prepare(
    dataset: str,
    frame: pd.DataFrame,
    weak: str,
    strong: str,
    test_fraction: float = 0.3,
    seed: int = 0,
    source_split: bool = False,
) -> Prepared:
    """Split the table leak-free and align the test prompts of the weak/strong pair."""
    train, test, report = split_outcomes(frame, test_fraction, seed, source_split)
    pair = ModelPair.from_outcomes(test, weak, strong)
    return Prepared(dataset, pair, train, report, cost_origin(test, pair))


def cost_origin(frame: pd.DataFrame, pair: ModelPair) -> str:
    """Where the run's cost numbers come from (replay, simulated or normalised), for the report."""
    if pair.cost_unit != "USD":
        return "normalised (strong calls; no prices in the data)"
    estimated = frame.get("estimated")
    if estimated is not None and estimated.fillna("").str.contains("cost_usd").any():
        return "simulated (tokens estimated from characters x a sourced price table)"
    return "replay (dollars recorded by the source)"


def curves_for(pair: ModelPair, scores: Mapping[str, FloatArray], points: int | None = None) -> dict[str, RoutingCurve]:
    """The random and oracle references plus every given router's curve."""
    everything = {"random": np.zeros(len(pair)), "oracle": oracle(pair, 0), **scores}
    curves = {name: routing_curve(pair, s) for name, s in everything.items()}
    if points:
        curves = {name: sample_curve(c, points) for name, c in curves.items()}
    return curves


def evaluate(
    prepared: Prepared, scores: Mapping[str, FloatArray], points: int | None = None, by_task: bool = True
) -> Evaluation:
    """Metrics of every router on the test pair (random = exact expectation, oracle = upper bound)."""
    pair = prepared.pair
    overall = _metrics(pair, scores, points)
    per_task: dict[str, dict[str, RoutingMetrics]] = {}
    if by_task:
        for task in sorted(set(pair.tasks.tolist())):
            mask = pair.tasks == task
            per_task[task] = _metrics(pair.subset(mask), {n: s[mask] for n, s in scores.items()}, points)
    return Evaluation(
        dataset=prepared.dataset,
        weak=pair.weak,
        strong=pair.strong,
        split=prepared.split,
        cost_origin=prepared.cost_origin,
        points=points,
        overall=overall,
        per_task=per_task,
    )



def _metrics(pair: ModelPair, scores: Mapping[str, FloatArray], points: int | None) -> dict[str, RoutingMetrics]:
    curves = curves_for(pair, {n: s for n, s in scores.items() if n not in FIXED_SHARE}, points)
    results = {n: summarize(c, len(pair), pair.cost_unit) for n, c in curves.items()}
    for name in scores:
        if name in FIXED_SHARE:
            results[name] = point_metrics(curves["random"], FIXED_SHARE[name], len(pair), pair.cost_unit)
    return results
