"""The item-response router: every model's outcomes teach one prompt difficulty, and that beats
a pair classifier on held-out prompts of a real multi-model table (the shipped LLMRouter slice)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tierlink.bench.datasets import dataset_spec, load_from
from tierlink.bench.evaluate import evaluate, prepare
from tierlink.bench.intervals import apgr_difference, apgr_intervals
from tierlink.core.errors import DataError
from tierlink.learn.data import PairData, prompts_of
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import ROUTERS
from tierlink.learn.routers.irt import unit_scores


def test_graded_scores_are_put_on_the_unit_interval_and_binary_ones_left_alone() -> None:
    assert np.array_equal(unit_scores(np.array([0.0, 1.0, np.nan])), np.array([0.0, 1.0, np.nan]), equal_nan=True)
    assert np.allclose(unit_scores(np.array([1.0, 5.5, 10.0])), [0.0, 0.5, 1.0])


def test_difficulty_from_every_model_beats_the_pair_classifiers_on_held_out_prompts() -> None:
    spec = dataset_spec("llmrouter")
    frame = load_from("llmrouter", None)  # the shipped slice: 300 prompts, 3 models, the source's split
    prepared = prepare("llmrouter", frame, spec.weak, spec.strong, 0.3, 0, True)
    data, test = PairData.from_outcomes(prepared.train, spec.weak, spec.strong), prompts_of(prepared.pair, frame)
    assert frame["model"].nunique() > 2 and not set(test.prompt_ids) & set(data.prompts.prompt_ids)
    cache = EmbeddingCache()
    scores = {name: ROUTERS[name]().fit(data, cache).score(test, cache) for name in ("irt", "tfidf-logreg", "logreg")}
    result = evaluate(prepared, scores, by_task=False).overall
    assert result["irt"].apgr > result["tfidf-logreg"].apgr + 0.05
    assert result["irt"].apgr > result["logreg"].apgr + 0.05
    lead = apgr_difference(prepared.pair, scores["irt"], scores["tfidf-logreg"], draws=200)
    assert lead.low < lead.value < lead.high and lead.value == result["irt"].apgr - result["tfidf-logreg"].apgr


def test_bootstrap_intervals_are_paired_and_separate_a_real_lead() -> None:
    spec = dataset_spec("llmrouter")
    prepared = prepare("llmrouter", load_from("llmrouter", None), spec.weak, spec.strong, 0.3, 0, True)
    gain = prepared.pair.strong_score - prepared.pair.weak_score
    same = apgr_difference(prepared.pair, gain, gain, draws=100)
    assert same.value == same.low == same.high == 0  # paired: a router against itself never differs
    lead = apgr_difference(prepared.pair, gain, -gain, draws=100)  # the oracle against its reverse
    assert lead.low > 0.5


def test_an_interval_keeps_its_sign_when_the_models_nearly_tie_and_empty_input_is_a_clear_error() -> None:
    spec = dataset_spec("llmrouter")
    pair = prepare("llmrouter", load_from("llmrouter", None), spec.weak, spec.strong, 0.3, 0, True).pair
    swing = np.zeros(len(pair))
    swing[:21], swing[21:40] = 1.0, -1.0  # each model wins 20 prompts and the strong one 2 more: gap 2/n
    near_tie = dataclasses.replace(pair, strong_score=pair.weak_score + swing)
    interval = apgr_intervals(near_tie, {"oracle": swing}, draws=200)["oracle"]
    # a resample's own gap often crosses zero; divided by it, the oracle's APGR would flip sign
    assert 0 < interval.low < interval.value < interval.high and np.isfinite(interval.high)
    tie = dataclasses.replace(pair, strong_score=pair.weak_score.copy())
    assert apgr_intervals(tie, {"any": swing})["any"].high == 0.0
    with pytest.raises(DataError, match="no prompts"):
        apgr_difference(pair.subset(np.array([], dtype=int)), swing[:0], swing[:0])
