"""Models that join and leave an N-way router at run time, without retraining: a joined model's
ability comes from a few probe outcomes, and a removed model is never chosen again."""

from __future__ import annotations

import numpy as np
import pytest

from tierlink.bench.datasets import load_from
from tierlink.bench.splits import split_outcomes
from tierlink.core.errors import DataError
from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.nway import NWayRouter


def _prompts(rows) -> Prompts:  # type: ignore[no-untyped-def]
    return Prompts(rows["prompt_id"].to_numpy(dtype=str), rows["prompt"].astype(str).tolist(), rows["task"].astype(str).tolist())


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    frame = load_from("llmrouter")
    train, test, _ = split_outcomes(frame, 0.3, 0, False)
    return train, test, EmbeddingCache()


def test_a_joined_model_is_ranked_by_its_probes_and_its_predictions_track_it(split) -> None:  # type: ignore[no-untyped-def]
    train, test, cache = split
    accuracy = test.groupby("model")["score"].mean().sort_values()
    weak, strong = accuracy.index[0], accuracy.index[-1]
    router = NWayRouter().fit(train[~train["model"].isin([weak, strong])], cache)
    thetas = {}
    for model in (weak, strong):
        probes = train[train["model"] == model].sample(n=30, random_state=0)
        thetas[model] = router.join(model, float(probes["cost_usd"].mean()), _prompts(probes), probes["score"] >= 0.5, cache)
    assert thetas[strong] > thetas[weak]
    rows = test[test["model"] == strong].drop_duplicates("prompt_id")
    predicted = router.predict(_prompts(rows), cache)
    assert set(predicted.columns) >= {weak, strong}
    # the joined model's predictions know which held-out prompts are hard: better than its own mean
    truth = (rows["score"].to_numpy() >= 0.5).astype(float)
    brier = np.mean((predicted[strong].to_numpy() - truth) ** 2)
    constant = np.mean((truth.mean() - truth) ** 2)
    assert brier < constant


def test_a_model_that_leaves_is_never_chosen_and_bad_input_is_named(split) -> None:  # type: ignore[no-untyped-def]
    train, test, cache = split
    router = NWayRouter().fit(train, cache)
    rows = test.drop_duplicates("prompt_id")
    gone = router.choose(router.predict(_prompts(rows), cache), 0.0).value_counts().index[0]  # the most chosen one
    router.leave(gone)
    assert gone not in set(router.choose(router.predict(_prompts(rows), cache), 0.0))
    with pytest.raises(DataError, match="no model"):
        router.leave(gone)
    with pytest.raises(DataError, match="one 0/1 outcome per probe"):
        router.join("new", 0.001, _prompts(rows.head(3)), [1, 0], cache)


def test_a_blended_join_finds_the_trained_model_it_behaves_like(split) -> None:  # type: ignore[no-untyped-def]
    train, test, cache = split
    router = NWayRouter().fit(train, cache)
    twin = train["model"].value_counts().index[0]
    rows = train[train["model"] == twin].drop_duplicates("prompt_id")
    rows = rows.sample(n=min(300, len(rows)), random_state=0)
    outcomes = router.predict(_prompts(rows), cache)[twin].to_numpy() >= 0.5  # right exactly where the twin is predicted right
    router.join("newcomer", 0.001, _prompts(rows), outcomes, cache, blend=True)
    weights = router.blends["newcomer"]
    assert max(weights, key=lambda m: weights[m]) == twin
    held_out = test.drop_duplicates("prompt_id").head(200)
    predicted = router.predict(_prompts(held_out), cache)
    assert np.corrcoef(predicted["newcomer"], predicted[twin])[0, 1] > 0.9  # it borrows the twin's per-prompt strengths
    router.leave("newcomer")
    assert "newcomer" not in router.blends and "newcomer" not in router.predict(_prompts(held_out), cache)
