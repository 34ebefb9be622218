"""Trained routers: features, every router on a shipped slice, save/load, calibration, the
contract (route train / route score / bench curve) and the `learned` policy in a session."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierlink.bench.datasets import load_dataset
from tierlink.bench.evaluate import prepare
from tierlink.bench.pair import ModelPair
from tierlink.core.errors import DataError
from tierlink.learn.calibrate import achieved, calibrate, parse_target
from tierlink.learn.data import PairData, Prompts, prompts_of
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import ROUTERS
from tierlink.learn.routers.base import load_router
from tierlink.learn.routers.hybrid_llm import balanced_relaxation
from tierlink.learn.text_features import NAMES, text_features
from tierlink.learn.train import apgr_of, make_router, train_router

WEAK, STRONG = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingCache:
    return EmbeddingCache(tmp_path_factory.mktemp("emb") / "embeddings.sqlite")


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return prepare("routellm-gsm8k", load_dataset("routellm-gsm8k"), WEAK, STRONG, 0.3, 0)


def test_text_features_shape_and_signals() -> None:
    rows = text_features(["What is 12 * 7?", "def f(x):\n    return x", "Explain why the sky is blue."])
    assert rows.shape == (3, len(NAMES))
    named = dict(zip(NAMES, rows.T, strict=True))
    assert named["digit_share"][0] > 0 and named["has_code"][1] == 1.0 and named["starts_explain"][2] == 1.0


def test_embedding_cache_reuses_vectors(cache: EmbeddingCache) -> None:
    seen: list[int] = []
    first = cache.embed(["a robot", "a cat", "a robot"], progress=seen.append)
    assert first.shape == (3, 384) and np.allclose(first[0], first[2])
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    seen.clear()
    again = cache.embed(["a cat"], progress=seen.append)
    assert seen == [1] and np.allclose(again[0], first[1])  # served from the cache: no batch ran


@pytest.mark.parametrize("name", list(ROUTERS))
def test_every_router_trains_scores_and_round_trips(name: str, split, cache: EmbeddingCache, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    meta = train_router(split.train, WEAK, STRONG, name, tmp_path / name, cache)
    router, loaded = load_router(tmp_path / name)
    assert loaded == meta and loaded.router == name and loaded.train_prompts > 100
    test = split.pair
    prompts = Prompts(test.prompt_ids, test.prompts.tolist(), test.tasks.tolist())
    scores = router.score(prompts, cache)
    assert scores.shape == (len(test),) and np.all(np.isfinite(scores))
    assert len(np.unique(scores)) > 5  # a real ranking, not a constant


def test_best_is_chosen_by_cross_validation(split, cache: EmbeddingCache, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    meta = train_router(split.train, WEAK, STRONG, "best", tmp_path / "best", cache)
    assert set(meta.cv_apgr) == set(ROUTERS) | {"posthoc", "posthoc-signals"}  # the GSM8K table carries Mixtral's drafts
    assert meta.router == max(meta.cv_apgr, key=lambda k: meta.cv_apgr[k])


def test_oracle_scores_give_oracle_apgr(split) -> None:  # type: ignore[no-untyped-def]
    data = PairData.from_outcomes(split.train, WEAK, STRONG)
    assert apgr_of(data, data.gain) > 1.0 > apgr_of(data, np.zeros(len(data.prompts))) == pytest.approx(0.5)


def test_hybrid_relaxation_balances_labels() -> None:
    gain = np.array([-0.2, 0.0, 0.1, 0.3, 0.5, 0.9])
    t = balanced_relaxation(gain)
    assert abs(np.mean(gain <= t) - 0.5) <= 1 / 6 + 1e-9


def test_calibration_targets(split) -> None:  # type: ignore[no-untyped-def]
    pair: ModelPair = split.pair
    scores = pair.strong_score - pair.weak_score + np.linspace(0, 1e-3, len(pair))
    share = calibrate("share", 0.3, pair, scores)
    assert share.held_in <= 0.3 and share.held_in > 0.25
    assert achieved("share", pair, scores, share.threshold) == share.held_in
    pgr = calibrate("pgr", 0.8, pair, scores)
    assert pgr.held_in >= 0.8
    assert parse_target("dollars:0.002") == ("dollars", 0.002)
    with pytest.raises(DataError, match="share:0.3"):
        parse_target("cost=3")


def test_unknown_router_and_bad_model_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown router"):
        make_router("gpt-judge")
    with pytest.raises(DataError, match="not a trained router"):
        load_router(tmp_path)


def test_a_table_where_one_model_always_wins_is_refused_with_the_fix(tmp_path: Path) -> None:
    rows = [(f"p{i}", f"question {i} about {'cats' if i % 2 else 'dogs'}", "qa", model, 1.0)
            for i in range(40) for model in ("small", "large")]
    frame = pd.DataFrame(rows, columns=["prompt_id", "prompt", "task", "model", "score"])
    for name in ("irt", "tfidf-logreg", "best"):
        with pytest.raises(DataError, match="beats the weak one on 0 of 40.*always use the weak model"):
            train_router(frame, "small", "large", name, tmp_path / name)
    frame.loc[(frame["model"] == "small") & frame["prompt_id"].isin(["p0", "p1"]), "score"] = 0.0
    with pytest.raises(DataError, match="beats the weak one on 2 of 40 training prompts \\(a router needs 3\\)"):
        train_router(frame, "small", "large", "best", tmp_path / "best")  # too few for 3 stratified folds
    assert train_router(frame, "small", "large", "logreg", tmp_path / "logreg").router == "logreg"


def _tierlink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierlink.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "160"})


def test_contract_train_score_curve(tmp_path: Path) -> None:
    table = tmp_path / "train.csv"
    split = prepare("routellm-gsm8k", load_dataset("routellm-gsm8k"), WEAK, STRONG, 0.3, 0)
    split.train.to_csv(table, index=False)
    prompts = tmp_path / "prompts.csv"
    pd.DataFrame({"prompt_id": split.pair.prompt_ids, "prompt": split.pair.prompts}).to_csv(prompts, index=False)
    trained = _tierlink("route", "train", "--outcomes", str(table), "--weak", WEAK, "--strong", STRONG,
                        "--router", "logreg", "--out", str(tmp_path / "model"))
    assert trained.returncode == 0, trained.stderr
    scored = _tierlink("route", "score", "--model", str(tmp_path / "model"), "--prompts", str(prompts), "--out", str(tmp_path / "s.csv"))
    assert scored.returncode == 0, scored.stderr
    curve = _tierlink("bench", "curve", "-o", "routellm-gsm8k", "--scores", str(tmp_path / "s.csv"), "--json")
    assert curve.returncode == 0, curve.stderr
    overall = json.loads(curve.stdout)["overall"]
    assert overall["s"]["prompts"] == len(split.pair)
    calibrated = _tierlink("route", "calibrate", "--model", str(tmp_path / "model"), "-o", "routellm-gsm8k", "--target", "share:0.4", "--json")
    assert calibrated.returncode == 0, calibrated.stderr
    result = json.loads(calibrated.stdout)
    assert result["held_in"] <= 0.4 and abs(result["miss"]) < 0.2
    assert json.loads((tmp_path / "model" / "router.json").read_text())["threshold"] == result["threshold"]


def test_a_posthoc_router_scores_new_prompts_from_a_drafts_file(tmp_path: Path) -> None:
    split = prepare("routellm-gsm8k", load_dataset("routellm-gsm8k"), WEAK, STRONG, 0.3, 0)
    table = tmp_path / "train.csv"
    split.train.to_csv(table, index=False)
    trained = _tierlink("route", "train", "--outcomes", str(table), "--weak", WEAK, "--strong", STRONG,
                        "--router", "posthoc", "--out", str(tmp_path / "ph"))
    assert trained.returncode == 0, trained.stderr
    test_rows = load_dataset("routellm-gsm8k").pipe(lambda f: f[f["prompt_id"].isin(split.pair.prompt_ids)])
    prompts, drafts = tmp_path / "prompts.csv", tmp_path / "drafts.csv"
    pd.DataFrame({"prompt_id": split.pair.prompt_ids, "prompt": split.pair.prompts}).to_csv(prompts, index=False)
    test_rows[["prompt_id", "model", "response"]].to_csv(drafts, index=False)  # both models' answers: the weak one is read
    args = ["route", "score", "--model", str(tmp_path / "ph"), "--prompts", str(prompts)]
    scored = _tierlink(*args, "--drafts", str(drafts), "--out", str(tmp_path / "s.csv"))
    assert scored.returncode == 0, scored.stderr
    router, _ = load_router(tmp_path / "ph")
    in_process = dataclasses.replace(prompts_of(split.pair, test_rows), draft_tokens=None)  # the file carries no lengths
    expected = router.score(in_process, EmbeddingCache())  # the weak model's drafts, read in process
    got = pd.read_csv(tmp_path / "s.csv", dtype={"prompt_id": str}).set_index("prompt_id")["score"].reindex(split.pair.prompt_ids)
    assert np.allclose(got.to_numpy(), expected, atol=1e-5)
    without = _tierlink(*args, "--out", str(tmp_path / "x.csv"))  # a post-hoc router with no drafts: a clean error
    assert without.returncode == 2 and "draft" in without.stdout and "Traceback" not in without.stdout + without.stderr
    test_rows[test_rows["model"] == STRONG][["prompt_id", "model", "response"]].to_csv(drafts, index=False)
    wrong = _tierlink(*args, "--drafts", str(drafts), "--out", str(tmp_path / "y.csv"))
    assert wrong.returncode == 2 and "weak model" in wrong.stdout


async def test_learned_policy_in_a_session(tmp_path: Path, split) -> None:  # type: ignore[no-untyped-def]
    from tierlink.core import Budget, Request
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.endpoints.simulated import SimulatedEndpoint
    from tierlink.routing.policy import make_policy
    from tierlink.routing.session import Session

    train_router(split.train, WEAK, STRONG, "logreg", tmp_path / "m")
    profiles = endpoint_profiles()
    endpoints = {"device": SimulatedEndpoint("device", profiles["jetson-orin-nano/llama3.2-1b-q4"], "robot"),
                 "cloud": SimulatedEndpoint("cloud", profiles["gpt-4o"], "cloud")}
    low = Session(endpoints, "device", make_policy("learned", model=str(tmp_path / "m"), threshold=0.0), Budget())
    high = Session(endpoints, "device", make_policy("learned", model=str(tmp_path / "m"), threshold=1.01), Budget())
    question = split.pair.prompts[0]
    to_cloud = await low.ask(Request.of(question, max_tokens=16))
    stays = await high.ask(Request.of(question, max_tokens=16))
    assert to_cloud.endpoint == "cloud" and "learned logreg: score" in to_cloud.reason
    assert stays.endpoint == "device"


def test_posthoc_router_reads_drafts(split, cache: EmbeddingCache, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tierlink.learn.data import prompts_of

    meta = train_router(split.train, WEAK, STRONG, "posthoc", tmp_path / "ph", cache)
    assert meta.needs_draft
    router, _ = load_router(tmp_path / "ph")
    prompts = prompts_of(split.pair, load_dataset("routellm-gsm8k"))
    assert prompts.drafts is not None and all(prompts.drafts)
    scores = router.score(prompts, cache)
    assert np.all(np.isfinite(scores)) and len(np.unique(scores)) > 5
    without = Prompts(prompts.prompt_ids, prompts.texts, prompts.tasks)
    with pytest.raises(DataError, match="no drafts"):
        router.score(without, cache)
    bare = split.train.drop(columns=[c for c in ("response", "output_tokens") if c in split.train.columns])
    with pytest.raises(DataError, match="has no drafts"):
        train_router(bare, WEAK, STRONG, "posthoc", tmp_path / "bare", cache)


async def test_posthoc_learned_policy_drafts_then_decides(tmp_path: Path, split) -> None:  # type: ignore[no-untyped-def]
    from tierlink.core import Budget, Request
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.endpoints.simulated import SimulatedEndpoint
    from tierlink.routing.policy import make_policy
    from tierlink.routing.session import Session

    train_router(split.train, WEAK, STRONG, "posthoc", tmp_path / "ph")
    profiles = endpoint_profiles()
    endpoints = {"device": SimulatedEndpoint("device", profiles["jetson-orin-nano/llama3.2-1b-q4"], "robot", answer="The answer is 42"),
                 "cloud": SimulatedEndpoint("cloud", profiles["gpt-4o"], "cloud")}
    accept = Session(endpoints, "device", make_policy("learned", model=str(tmp_path / "ph"), threshold=1.01), Budget())
    result = await accept.ask(Request.of(split.pair.prompts[0], max_tokens=16))
    assert result.endpoint == "device" and result.used_draft and "learned posthoc" in result.reason
    escalate = Session(endpoints, "device", make_policy("learned", model=str(tmp_path / "ph"), threshold=0.0), Budget())
    result = await escalate.ask(Request.of(split.pair.prompts[0], max_tokens=16))
    assert result.endpoint == "cloud" and result.usage.output_tokens > 16  # the draft was charged too


def test_router_names_for_cli_help_match_the_registry() -> None:
    from tierlink.learn import router_names
    from tierlink.learn.routers import ALL_ROUTERS, POSTHOC_ROUTERS

    assert router_names.ALL == tuple(ALL_ROUTERS) and router_names.POST_HOC == tuple(POSTHOC_ROUTERS)
