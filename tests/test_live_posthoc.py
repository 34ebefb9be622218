"""The live post-hoc router: drafts of the real embedded model with llama.cpp log-probs and
k-sample agreement are collected, graded, learned from, and read again live in a session."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tierlink.core.grading import grade
from tierlink.core.messages import Request
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.profile import EndpointProfile
from tierlink.learn.draft_collection import SIGNAL_COLUMNS, collect_drafts, extend_drafts
from tierlink.routing.draft_signals import SIGNALS, choice_share, sampled_request, signal_values

from .servers.process import free_port

DATA = Path(__file__).resolve().parents[1] / "src" / "tierlink" / "data"
SHIPPED_DRAFTS = DATA / "drafts" / "gemma3_270m_routerarena_mcq.csv"
RECORDED = DATA / "routerarena_mcq.csv"
STRONG = "gemini-2.0-flash-001"


def _mcq(n: int) -> pd.DataFrame:
    frame = pd.read_csv(RECORDED, dtype={"prompt_id": str, "gold": str})
    return frame.drop_duplicates("prompt_id").sort_values("prompt").head(n)[["prompt_id", "prompt", "task", "gold"]]


def _tierlink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierlink.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})


def test_grading_of_drafts() -> None:
    assert grade("\\boxed{B} because", "B") == 1.0 and grade("A. False", "B") == 0.0
    assert grade("It is Paris, France.", "Paris") == 1.0 and grade("Lyon", "Paris") == 0.0


async def test_live_signals_from_the_embedded_model(gemma: LlamaCppEndpoint) -> None:
    request = Request.of(_mcq(1)["prompt"].iloc[0], max_tokens=6)
    draft = await gemma.complete(request.model_copy(update={"logprobs": True}))
    samples = tuple([await gemma.complete(sampled_request(request, i)) for i in range(2)])
    assert all(s.origin == "live" for s in (draft, *samples))
    values = signal_values(draft, samples)
    assert set(values) == set(SIGNALS)
    assert values["mean_logprob"] < 0 and values["min_logprob"] <= values["mean_logprob"]
    assert values["mean_entropy"] > 0 and values["first_margin"] >= 0
    assert values["agreement"] in (0.0, 0.5, 1.0) and values["draft_tokens"] == draft.usage.output_tokens
    share = choice_share(draft)
    assert share is None or 0 < share <= 1
    assert sampled_request(request, 1).seed != sampled_request(request, 0).seed


async def test_collection_grades_resumes_and_survives_a_dead_endpoint(gemma: LlamaCppEndpoint, tmp_path: Path,
                                                                        cloud_profile: EndpointProfile) -> None:
    prompts, out = _mcq(3), tmp_path / "drafts.csv"
    table, failures = await collect_drafts(gemma, prompts.head(2), out, samples=2, max_tokens=6)
    assert failures == [] and len(table) == 2
    assert set(SIGNAL_COLUMNS) <= set(table.columns) and (table["samples"] == 2).all()
    for row in table.to_dict("records"):
        assert row["score"] == grade(row["response"], row["gold"]) and row["model"] == "gemma"
        assert math.isfinite(row["signal_mean_logprob"]) and row["output_tokens"] <= 6
    first = table.copy()
    seen: list[int] = []
    table, _ = await collect_drafts(gemma, prompts, out, samples=2, max_tokens=6, progress=lambda done, total: seen.append(total))
    assert len(table) == 3 and seen == [1]  # only the new prompt was drafted
    pd.testing.assert_frame_equal(table.head(2), first)

    dead = OpenAICompatEndpoint("dead", f"http://127.0.0.1:{free_port()}/v1", "m", cloud_profile, "cloud",
                                timeout_s=2, max_retries=0)
    lost = tmp_path / "lost.csv"
    table, failures = await collect_drafts(dead, prompts, lost, samples=0)
    assert len(failures) == 3 and table.empty and not lost.exists()


async def test_extended_drafts_equal_a_fresh_collection_with_more_evidence(gemma: LlamaCppEndpoint, tmp_path: Path) -> None:
    prompts = _mcq(3)
    short, _ = await collect_drafts(gemma, prompts, tmp_path / "short.csv", samples=1, max_tokens=6)
    assert "signal_self_check" not in short.columns  # asked for only with self_check=True
    full, _ = await collect_drafts(gemma, prompts, tmp_path / "full.csv", samples=3, max_tokens=6, self_check=True)
    extended, failures = await extend_drafts(gemma, short, tmp_path / "ext.csv", samples=3, self_check=True)
    assert failures == [] and (extended["samples"] == 3).all() and extended["response"].tolist() == full["response"].tolist()
    np.testing.assert_allclose(extended["signal_agreement"], full["signal_agreement"])
    np.testing.assert_allclose(extended["signal_self_check"], full["signal_self_check"], atol=1e-4)
    assert full["signal_self_check"].between(0, 1).all()
    assert (extended["latency_s"] > short["latency_s"]).all()
    again, _ = await extend_drafts(gemma, short, tmp_path / "ext.csv", samples=3, self_check=True)
    pd.testing.assert_frame_equal(again, extended)  # resumed: nothing redrawn


def test_train_on_shipped_live_drafts_and_score(tmp_path: Path) -> None:
    model = tmp_path / "m"
    trained = _tierlink("route", "train", "--outcomes", str(RECORDED), "--drafts", str(SHIPPED_DRAFTS),
                        "--strong", STRONG, "--router", "posthoc-signals", "--out", str(model))
    assert trained.returncode == 0, trained.stderr + trained.stdout
    meta = json.loads((model / "router.json").read_text())
    assert meta["weak"] == "gemma" and meta["needs_draft"] and meta["samples"] == 4
    # the shipped Gemma drafts were collected without a self-check
    assert sorted(meta["signals"]) == sorted(set(SIGNALS) - {"self_check"}) and meta["draft_max_tokens"] == 16
    scored = _tierlink("route", "score", "--model", str(model), "--prompts", str(SHIPPED_DRAFTS), "--out", str(tmp_path / "s.csv"))
    assert scored.returncode == 0, scored.stderr
    scores = pd.read_csv(tmp_path / "s.csv")
    assert len(scores) == pd.read_csv(SHIPPED_DRAFTS)["prompt_id"].nunique() and scores["score"].between(0, 1).all()
    assert scores["score"].nunique() > 10
    bare = tmp_path / "bare.csv"
    pd.read_csv(SHIPPED_DRAFTS).drop(columns=list(SIGNAL_COLUMNS)).to_csv(bare, index=False)
    refused = _tierlink("route", "score", "--model", str(model), "--prompts", str(bare), "--out", str(tmp_path / "x.csv"))
    assert refused.returncode == 2 and "collect-drafts" in refused.stdout
    ungraded = tmp_path / "ungraded.csv"
    pd.read_csv(SHIPPED_DRAFTS).drop(columns=["score"]).to_csv(ungraded, index=False)
    refused = _tierlink("route", "train", "--outcomes", str(RECORDED), "--drafts", str(ungraded), "--strong", STRONG,
                        "--router", "posthoc-signals", "--out", str(tmp_path / "y"))
    assert refused.returncode == 2 and "not graded" in refused.stdout


async def test_learned_posthoc_policy_reads_live_signals(gemma: LlamaCppEndpoint, tmp_path: Path) -> None:
    from tierlink.core import Budget
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.endpoints.simulated import SimulatedEndpoint
    from tierlink.learn.train import train_router
    from tierlink.routing.policy import make_policy
    from tierlink.routing.session import Session

    frame = pd.concat([pd.read_csv(RECORDED, dtype={"prompt_id": str, "gold": str}).query("model == @STRONG"),
                       pd.read_csv(SHIPPED_DRAFTS, dtype={"prompt_id": str, "gold": str})], ignore_index=True)
    train_router(frame, "gemma", STRONG, "posthoc-signals", tmp_path / "ph")
    endpoints = {"gemma": gemma, "cloud": SimulatedEndpoint("cloud", endpoint_profiles()["gpt-4o"], "cloud")}
    question = Request.of(_mcq(1)["prompt"].iloc[0], max_tokens=8)
    escalate = Session(endpoints, "gemma", make_policy("learned", model=str(tmp_path / "ph"), threshold=0.0), Budget())
    result = await escalate.ask(question)
    assert result.endpoint == "cloud" and "learned posthoc-signals: score" in result.reason
    policy = make_policy("learned", model=str(tmp_path / "ph"), threshold=1.01)
    accept = Session(endpoints, "gemma", policy, Budget())
    first = await policy.decide(accept.preview(question))
    assert first.draft and first.samples == 4  # drawn as the training drafts were
    kept = await accept.ask(question)
    assert kept.endpoint == "gemma" and kept.used_draft and kept.completion is not None
    # the draft and its 4 samples were all charged to the turn
    assert kept.usage.output_tokens > kept.completion.usage.output_tokens


async def test_a_router_trained_with_a_self_check_asks_for_one(gemma: LlamaCppEndpoint, tmp_path: Path) -> None:
    from tierlink.core import Budget
    from tierlink.core.ledger import Ledger
    from tierlink.learn.train import train_router
    from tierlink.routing.policy import make_policy
    from tierlink.routing.session import Session

    drafts = pd.read_csv(SHIPPED_DRAFTS, dtype={"prompt_id": str, "gold": str})
    # the verdict column as `collect-drafts --self-check` writes it (values only need to vary)
    drafts["signal_self_check"] = np.random.default_rng(0).random(len(drafts))
    frame = pd.concat([pd.read_csv(RECORDED, dtype={"prompt_id": str, "gold": str}).query("model == @STRONG"), drafts],
                      ignore_index=True)
    train_router(frame, "gemma", STRONG, "posthoc-signals", tmp_path / "ph")
    policy = make_policy("learned", model=str(tmp_path / "ph"), threshold=1.01)
    ledger = Ledger()
    session = Session({"gemma": gemma, "cloud": gemma}, "gemma", policy, Budget(), charges=ledger)
    question = Request.of(_mcq(1)["prompt"].iloc[0], max_tokens=8)
    first = await policy.decide(session.preview(question))
    assert first.draft and first.self_check and first.samples == 4
    kept = await session.ask(question)
    assert kept.endpoint == "gemma" and kept.used_draft and "score" in kept.reason
    assert [c.kind for c in ledger.charges] == ["draft", "sample", "sample", "sample", "sample", "self-check"]
