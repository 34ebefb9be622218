"""The case study: conversations from recorded outcomes, policies under the paper's budgets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierlink.bench.case_study_run import run_policy, turn_quality
from tierlink.bench.conversations import (
    CASE_CLOUD,
    CASE_DEVICE,
    VIEWS,
    build_case_study,
    turn_request,
)
from tierlink.context.history import HistoryPlan
from tierlink.core import Budget
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.link import Link
from tierlink.network.registry import link_profiles
from tierlink.routing.policy import make_policy
from tierlink.routing.relevance import LexicalRelevance


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    return build_case_study(12, seed=1)


def test_conversations_are_deterministic_and_well_formed(case) -> None:  # type: ignore[no-untyped-def]
    again = build_case_study(12, seed=1)
    assert [c.model_dump() for c in case.conversations] == [c.model_dump() for c in again.conversations]
    assert all(5 <= len(c.turns) <= 10 for c in case.conversations)  # the paper's dialogue lengths
    categories = {t.category for c in case.conversations for t in c.turns}
    assert categories == {"math", "knowledge", "chat"}
    for conversation in case.conversations:
        for first, second in zip(conversation.turns, conversation.turns[1:], strict=False):
            if first.prompt_id.endswith("-t1"):
                assert second.prompt_id == first.prompt_id[:-1] + "2"  # MT-Bench turns stay in order
    assert set(case.table.models) == {"device", "cloud"}
    request = turn_request(case.conversations[0].turns[0])
    assert len(request.attachments) == 3 and request.attachments[0].description == "front camera view"


async def test_policies_respect_the_dollar_budget_and_rank_sensibly(case) -> None:  # type: ignore[no-untyped-def]
    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    budget = Budget(latency_s=30, dollars=0.05)
    results = {}
    for name in ("always-device", "always-cloud", "budget-pacing"):
        results[name] = await run_policy(name, lambda n=name: make_policy(n), case, budget, link, device, cloud, LexicalRelevance())
    assert results["always-device"].mean_dollars == 0 and results["always-device"].cloud_share == 0
    only_cloud = results["always-cloud"]
    assert only_cloud.cloud_share > 0.5 and only_cloud.mean_quality > results["always-device"].mean_quality
    assert all(r.dollar_over_budget == 0 and r.latency_over_budget == 0 for r in results.values())
    # the budgets bind: without them always-cloud goes over in some conversations, with them it
    # sends turns down-tier instead (sourced image prices, 5-10 turns)
    assert only_cloud.unconstrained_over_any and only_cloud.unconstrained_over_any >= 0.3 * only_cloud.conversations
    assert only_cloud.down_tier > 0 and only_cloud.unconstrained_quality > only_cloud.mean_quality
    tight = await run_policy("always-cloud", lambda: make_policy("always-cloud"), case,
                             Budget(latency_s=30, dollars=0.002), link, device, cloud, LexicalRelevance())
    assert tight.mean_dollars <= 0.002 and tight.fallbacks > 0  # the cloud stops fitting; the device takes over


def test_missing_view_halves_the_recorded_score(case) -> None:  # type: ignore[no-untyped-def]
    from tierlink.core import Completion, Usage
    from tierlink.routing.session import TurnResult
    from tierlink.routing.state import Action

    turn = next(t for c in case.conversations for t in c.turns if t.view is not None)
    completion = Completion(text="x", endpoint="cloud", model="cloud", usage=Usage(), origin="replay", recorded_score=1.0)
    base = dict(turn=1, answer="x", endpoint="cloud", reason="r", action=Action(endpoint="cloud", reason="r"),
                usage=Usage(), budget_left=Budget(), completion=completion)
    seen = TurnResult(**base, attachments_sent=(VIEWS.index(turn.view),))  # type: ignore[arg-type]
    unseen = TurnResult(**base, attachments_sent=())  # type: ignore[arg-type]
    assert turn_quality(turn, seen) == 1.0 and turn_quality(turn, unseen) == 0.5


def test_cli_draws_fig4_and_reports_origins(tmp_path: Path) -> None:
    png = tmp_path / "fig4.png"
    result = subprocess.run(
        [sys.executable, "-m", "tierlink.cli", "bench", "conversations", "-n", "6",
         "--policies", "always-device,always-cloud,random,threshold,cascade,budget-pacing", "--png", str(png), "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    summaries = json.loads(result.stdout)
    assert [s["policy"] for s in summaries] == ["always-device", "always-cloud", "random", "threshold", "cascade", "budget-pacing"]
    assert all("replay" in s["origin"] and "simulated" in s["origin"] for s in summaries)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_follow_up_without_its_first_turn_scores_half(case) -> None:  # type: ignore[no-untyped-def]
    from tierlink.core import Completion, Usage
    from tierlink.routing.session import TurnResult
    from tierlink.routing.state import Action

    follow_up = next(t for c in case.conversations for t in c.turns if t.follows_up).model_copy(update={"view": None})
    assert follow_up.prompt_id.endswith("-t2")
    assert not any(t.follows_up for c in case.conversations for t in c.turns if not t.prompt_id.endswith("-t2"))
    completion = Completion(text="x", endpoint="cloud", model="cloud", usage=Usage(), origin="replay", recorded_score=1.0)
    base = dict(turn=2, answer="x", endpoint="cloud", reason="r", action=Action(endpoint="cloud", reason="r"),
                usage=Usage(), budget_left=Budget(), completion=completion)
    plans = {"full": HistoryPlan(kind="full"), "last_1": HistoryPlan(kind="last_k", k=1),
             "summary": HistoryPlan(kind="summary"), "none": HistoryPlan(kind="none")}
    scores = {label: turn_quality(follow_up, TurnResult(**base, history_plan=plan)) for label, plan in plans.items()}  # type: ignore[arg-type]
    assert scores == {"full": 1.0, "last_1": 1.0, "summary": 1.0, "none": 0.5}
    independent = follow_up.model_copy(update={"follows_up": False})
    assert turn_quality(independent, TurnResult(**base, history_plan=HistoryPlan(kind="none"))) == 1.0  # type: ignore[arg-type]


async def test_the_oracle_bounds_the_fixed_policies_when_nothing_binds(case) -> None:  # type: ignore[no-untyped-def]
    """Per turn, the oracle takes the better of the two records (with the needed view), so with no
    budget its quality is at least always-device's and always-cloud's; with one it stays within it,
    and it pays for the cloud only where the cloud is not worse."""
    from tierlink.bench.oracle import OraclePolicy

    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    budget = Budget(latency_s=30, dollars=0.05)
    oracle = await run_policy("oracle", lambda: OraclePolicy(case), case, budget, link, device, cloud, LexicalRelevance())
    fixed = [await run_policy(n, lambda n=n: make_policy(n), case, budget, link, device, cloud, LexicalRelevance())
             for n in ("always-device", "always-cloud")]
    assert all(oracle.unconstrained_quality >= f.unconstrained_quality for f in fixed)  # type: ignore[operator]
    assert oracle.latency_over_budget == oracle.dollar_over_budget == 0
    assert oracle.unconstrained_dollars < fixed[1].unconstrained_dollars  # one view, and only where it is needed


async def test_an_llm_router_pays_for_its_own_calls_once_each(case, gemma) -> None:  # type: ignore[no-untyped-def]
    """The LLM-as-router baseline's calls (live, in process) are charged to the conversation's
    latency; the unconstrained rerun replays them instead of calling the model again."""
    from tierlink.bench.conversations import CaseStudy
    from tierlink.bench.recorded_calls import RecordedCalls

    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    one = CaseStudy(case.conversations[:1], case.table, case.sources)
    router = RecordedCalls(gemma)
    args = (one, Budget(latency_s=1e6, dollars=1e6), link, device, cloud, LexicalRelevance())
    plain = await run_policy("always-cloud", lambda: make_policy("always-cloud"), *args)
    routed = await run_policy("llm-router", lambda: make_policy("llm-router", router=router, min_hard=0.0), *args)
    texts = {turn_request(t).last_user_text for t in one.conversations[0].turns}
    assert router.live_calls == len(texts)  # two passes (enforced, unconstrained), one live call per question
    assert routed.mean_quality == plain.mean_quality and routed.cloud_share == plain.cloud_share  # min_hard 0: always escalates
    assert routed.mean_latency_s > plain.mean_latency_s  # the router's own seconds are in the conversation's
    assert routed.unconstrained_latency_s == pytest.approx(routed.mean_latency_s)  # replayed with the same measured usage


def test_an_unknown_router_model_is_named_before_any_work(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tierlink.cli", "bench", "conversations", "-n", "1", "--policies", "llm-router",
         "--router-models", "no-such-model", "--png", str(tmp_path / "f.png")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    said = result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in said
    assert "--router-models" in said and "smollm2-135m" in said  # the field and the known names


async def test_a_refuse_rule_keeps_every_turn_with_personal_data_on_the_device(case) -> None:  # type: ignore[no-untyped-def]
    from tierlink.trust.pii import PiiDetector
    from tierlink.trust.zones import ZoneRule, ZoneRules
    profiles = endpoint_profiles()
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    detector = PiiDetector()
    # a turn is held back once it or any turn before it in its conversation holds personal data:
    # the history sent with it would carry the data (answers in it may hold more: at least these)
    expected = 0
    for conversation in case.conversations:
        seen = False
        for turn in conversation.turns:
            seen = seen or bool(detector.find(turn.text))
            expected += seen
    assert expected > 0
    runs = {}
    for label, rules in (("off", None), ("refuse", ZoneRules(default=ZoneRule(pii="refuse")))):
        runs[label] = await run_policy("always-cloud", lambda: make_policy("always-cloud"), case, Budget(), link,
                                       profiles[CASE_DEVICE], profiles[CASE_CLOUD], LexicalRelevance(), unconstrained=False,
                                       rules=rules)
    assert runs["off"].held_back == 0 and expected <= runs["refuse"].held_back < runs["refuse"].turns
    assert runs["refuse"].cloud_share < runs["off"].cloud_share and runs["refuse"].mean_quality < runs["off"].mean_quality
