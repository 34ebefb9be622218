"""Routing metrics on small cases computed by hand (see the comments for the arithmetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlink.bench.baselines import BASELINES, baseline
from tierlink.bench.curve import routing_curve, sample_curve
from tierlink.bench.metrics import aiq, apgr, cpt, delta_ibc, pareto_frontier, summarize, upper_hull
from tierlink.bench.nway import (
    evaluate_choices,
    oracle_frontier,
    outcome_matrices,
    single_model_points,
)
from tierlink.bench.pair import ModelPair
from tierlink.bench.splits import hash_split, split_outcomes
from tierlink.core.errors import DataError

# weak = [0, 1, 0, 1] (mean 0.5), strong = [1, 1, 1, 0] (mean 0.75): gap 0.25
WEAK = [0.0, 1.0, 0.0, 1.0]
STRONG = [1.0, 1.0, 1.0, 0.0]


def _frame(weak: list[float], strong: list[float], costs: tuple[float, float] | None = None) -> pd.DataFrame:
    rows = []
    for i, (w, s) in enumerate(zip(weak, strong, strict=True)):
        for model, score in (("weak", w), ("strong", s)):
            row = {"prompt_id": f"p{i}", "prompt": "x" * (i + 1), "task": "t" if i < 2 else "u", "model": model, "score": score}
            if costs:
                row["cost_usd"] = costs[0] if model == "weak" else costs[1]
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def pair() -> ModelPair:
    return ModelPair.from_outcomes(_frame(WEAK, STRONG), "weak", "strong")


def test_curve_of_a_fixed_ordering(pair: ModelPair) -> None:
    # gains in router order [1, 0, 1, -1]: quality 0.5, 0.75, 0.75, 1.0, 0.75
    curve = routing_curve(pair, np.array([4.0, 3.0, 2.0, 1.0]))
    assert curve.share.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert curve.quality.tolist() == pytest.approx([0.5, 0.75, 0.75, 1.0, 0.75])
    assert curve.pgr.tolist() == pytest.approx([0, 1, 1, 2, 1])
    # trapezoid AUC = 0.15625 + 0.1875 + 0.21875 + 0.21875 = 0.78125; (0.78125 - 0.5) / 0.25
    assert apgr(curve) == pytest.approx(1.125)
    assert cpt(curve, 0.5) == pytest.approx(0.125)  # halfway up the first segment
    assert cpt(curve, 1.0) == pytest.approx(0.25)
    assert cpt(curve, 3.0) == 1.0  # never reached
    # unpriced: cost = share; IBC per point 1, .5, .667, .25 vs base .25 -> mean of 3, 1, 1.667, 0
    assert delta_ibc(curve) == pytest.approx(100 * (3 + 1 + 5 / 3 + 0) / 4)
    # hull (0,.5) (.25,.75) (.75,1) then flat: .15625 + .4375 + .25
    assert aiq(curve.cost, curve.quality, (0.0, 1.0)) == pytest.approx(0.84375)


def test_random_router_is_the_diagonal(pair: ModelPair) -> None:
    curve = routing_curve(pair, np.zeros(len(pair)))  # all tied: expectation over tie-breaks
    assert curve.share.tolist() == [0.0, 1.0]
    assert apgr(curve) == pytest.approx(0.5)
    assert cpt(curve, 0.5) == pytest.approx(0.5)
    assert delta_ibc(curve) == pytest.approx(0.0)


def test_oracle_recovers_most(pair: ModelPair) -> None:
    curve = routing_curve(pair, baseline("oracle")(pair, 0))
    # sorted gains [1, 1, 0, -1]: quality .5, .75, 1, 1, .75 -> AUC .84375 -> (.84375 - .5)/.25
    assert apgr(curve) == pytest.approx(1.375)
    assert curve.quality.max() == 1.0


def test_ties_are_routed_together(pair: ModelPair) -> None:
    curve = routing_curve(pair, np.array([1.0, 1.0, 0.0, 0.0]))
    assert curve.share.tolist() == [0.0, 0.5, 1.0]
    assert curve.quality.tolist() == pytest.approx([0.5, 0.75, 0.75])


def test_sampled_curve_matches_routellm_cutoffs(pair: ModelPair) -> None:
    exact = routing_curve(pair, np.array([4.0, 3.0, 2.0, 1.0]))
    sampled = sample_curve(exact, 5)
    assert sampled.quality.tolist() == pytest.approx(exact.quality.tolist())


def test_priced_pair_uses_dollars() -> None:
    pair = ModelPair.from_outcomes(_frame(WEAK, STRONG, costs=(0.001, 0.011)), "weak", "strong")
    assert pair.cost_unit == "USD"
    curve = routing_curve(pair, np.array([4.0, 3.0, 2.0, 1.0]))
    assert curve.cost.tolist() == pytest.approx([0.001, 0.0035, 0.006, 0.0085, 0.011])
    metrics = summarize(curve, len(pair), pair.cost_unit)
    assert metrics.weak_cost == pytest.approx(0.001) and metrics.strong_cost == pytest.approx(0.011)


def test_upper_hull_and_pareto() -> None:
    cost = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    quality = np.array([0.5, 0.75, 0.75, 1.0, 0.75])
    xs, ys = upper_hull(cost, quality)
    assert xs.tolist() == [0.0, 0.25, 0.75] and ys.tolist() == [0.5, 0.75, 1.0]
    assert sorted(pareto_frontier(cost, quality).tolist()) == [0, 1, 3]
    # a point below the chord is dropped by the hull but kept by Pareto
    xs2, _ = upper_hull(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 1.0]))
    assert xs2.tolist() == [0.0, 1.0]
    assert sorted(pareto_frontier(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 1.0])).tolist()) == [0, 1, 2]


def test_baselines_by_name(pair: ModelPair) -> None:
    assert set(BASELINES) == {"random", "always-weak", "always-strong", "oracle", "prompt-length"}
    assert baseline("prompt-length")(pair, 0).tolist() == [1, 2, 3, 4]
    assert not np.array_equal(baseline("random")(pair, 1), baseline("random")(pair, 2))
    with pytest.raises(DataError, match="unknown baseline"):
        baseline("smart")


def test_missing_scores_are_a_clear_error(pair: ModelPair) -> None:
    with pytest.raises(DataError, match="no score"):
        pair.align_scores(pd.Series({"p0": 1.0, "p1": 0.5}))


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="no rows for model 'gpt-9'.*strong, weak"):
        ModelPair.from_outcomes(_frame(WEAK, STRONG), "weak", "gpt-9")


def test_nway_selection_and_oracle_frontier() -> None:
    frame = pd.DataFrame(
        [
            {"prompt_id": p, "prompt": p, "task": "t", "model": m, "score": s, "cost_usd": c}
            for p, scores in (("a", (1, 1, 1)), ("b", (0, 1, 1)), ("c", (0, 0, 1)))
            for m, s, c in zip(("small", "mid", "big"), scores, (1.0, 2.0, 4.0), strict=True)
        ]
    )
    scores, costs = outcome_matrices(frame)
    points = {p.label: p for p in single_model_points(scores, costs)}
    assert points["small"].quality == pytest.approx(1 / 3) and points["big"].cost == 4.0
    routed = evaluate_choices(pd.Series({"a": "small", "b": "mid", "c": "big"}), scores, costs, "perfect")
    assert routed.quality == 1.0 and routed.cost == pytest.approx(7 / 3)
    frontier = oracle_frontier(scores, costs)
    assert frontier[0].cost == pytest.approx(1.0) and frontier[-1].quality == 1.0
    assert frontier[-1].cost == pytest.approx(7 / 3)  # the oracle never pays for "big" when "mid" suffices


def test_hash_split_is_deterministic_and_balanced() -> None:
    ids = [f"q{i}" for i in range(5000)]
    first = [hash_split(i, 0.3) for i in ids]
    assert first == [hash_split(i, 0.3) for i in ids]
    assert 0.27 < first.count("test") / len(ids) < 0.33
    assert first != [hash_split(i, 0.3, seed=1) for i in ids]


def test_split_removes_test_prompts_that_reappear_in_train() -> None:
    frame = pd.DataFrame(
        [
            {"prompt_id": "tr-1", "prompt": "What is  2+2?", "task": "m", "model": "a", "score": 1, "split": "train"},
            {"prompt_id": "tr-2", "prompt": "Name a colour", "task": "m", "model": "a", "score": 1, "split": "train"},
            {"prompt_id": "te-1", "prompt": "what is 2+2?", "task": "m", "model": "a", "score": 0, "split": "test"},
        ]
    )
    train, test, report = split_outcomes(frame, use_source_split=True)
    assert list(train["prompt_id"]) == ["tr-2"] and list(test["prompt_id"]) == ["te-1"]
    assert report.leaked_removed == 1 and report.source_split


def test_fixed_policies_are_points_not_curves(pair: ModelPair) -> None:
    from tierlink.bench.evaluate import Prepared, evaluate
    from tierlink.bench.splits import SplitReport

    prepared = Prepared("toy", pair, pd.DataFrame(), SplitReport(train_prompts=0, test_prompts=4, leaked_removed=0, source_split=False), "normalised")
    result = evaluate(prepared, {"always-weak": np.zeros(4), "always-strong": np.ones(4)}, by_task=False).overall
    assert result["always-weak"].kind == "point" and result["always-weak"].apgr == pytest.approx(0.0)
    assert result["always-strong"].apgr == pytest.approx(1.0) and result["always-strong"].cpt50 == 1.0
    assert result["always-strong"].delta_ibc == pytest.approx(0.0)  # it *is* the base IBC
    assert result["random"].apgr == pytest.approx(0.5)


def test_delta_ibc_is_undefined_when_strong_is_cheaper() -> None:
    cheap_strong = ModelPair.from_outcomes(_frame(WEAK, STRONG, costs=(0.01, 0.001)), "weak", "strong")
    curve = routing_curve(cheap_strong, np.array([4.0, 3.0, 2.0, 1.0]))
    assert np.isnan(delta_ibc(curve))
    assert aiq(curve.cost, curve.quality, (curve.weak_cost, curve.strong_cost)) > 0
