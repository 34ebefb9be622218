"""The vertical session: policies, hard budgets, residency, modality rules, outages and fallbacks.

These tests use replay and simulated endpoints (fast, deterministic); the live model is
exercised in test_session_live.py.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierlink.context.history import HistoryPlan, plan_messages
from tierlink.context.prefix_cache import PrefixTracker
from tierlink.core import Attachment, Budget, Completion, Message, Request
from tierlink.core.errors import ConfigError
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.availability import AvailabilityTrace, Outage
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import Policy, make_policy, registry
from tierlink.routing.relevance import LexicalRelevance
from tierlink.routing.residency import Residency
from tierlink.routing.session import Session
from tierlink.routing.state import Action, TurnState

DEVICE = EndpointProfile(name="dev", tier="device", hardware="test", model="tiny", context_window=8192,
                         decode_tokens_per_s=40, prefill_tokens_per_s=400, ttft_s=0.05, power_w=5,
                         privacy_zone="device", source="test fixture")


def cloud_profile(price_in: float = 2.5, price_out: float = 10.0, modalities: tuple[str, ...] = ("text",)) -> EndpointProfile:
    return EndpointProfile(name="cloud", tier="cloud", hardware="test", model="big", context_window=128000,
                           modalities=modalities, price_in_per_mtok=price_in, price_out_per_mtok=price_out,  # type: ignore[arg-type]
                           decode_tokens_per_s=80, prefill_tokens_per_s=8000, ttft_s=0.4, source="test fixture")


def link(outages: tuple[Outage, ...] = ()) -> Link:
    return Link(name="5g", a="phone", b="cloud", up_mbps=20, down_mbps=100, rtt_ms=40,
                availability=AvailabilityTrace(outages=outages))


def session(policy: Policy, budget: Budget | None = None, cloud: Endpoint | None = None,
            clock: VirtualClock | None = None, outages: tuple[Outage, ...] = (), **kw: object) -> Session:
    clock = clock or VirtualClock()
    remote = cloud or SimulatedEndpoint("cloud", cloud_profile(), "cloud", output_tokens=50)
    endpoints = {
        "device": SimulatedEndpoint("device", DEVICE, "phone", answer="device answer", output_tokens=20),
        "cloud": LinkedEndpoint(remote, link(outages), clock),
    }
    return Session(endpoints, "device", policy, budget, zones={"device": "device", "cloud": "cloud"}, **kw)  # type: ignore[arg-type]


async def test_registry_has_every_policy() -> None:
    assert {"always-device", "always-cloud", "random", "threshold", "cascade", "llm-router", "budget-pacing"} <= set(registry())
    with pytest.raises(ConfigError, match="unknown policy 'smart'"):
        make_policy("smart")
    with pytest.raises(ConfigError, match="policy.random"):
        make_policy("random", nonsense=1)


async def test_turn_result_reports_action_reason_usage_and_budget() -> None:
    s = session(make_policy("always-cloud"), Budget(dollars=0.05, latency_s=30))
    result = await s.ask(Request.of("What is the capital of France?", max_tokens=50))
    assert result.endpoint == "cloud" and result.reason == "always-cloud"
    assert result.usage.dollars > 0 and result.usage.bytes_up > 0 and result.usage.latency.network_s > 0
    assert result.budget_left.dollars == pytest.approx(0.05 - result.usage.dollars)
    assert s.history[-1] == Message(role="assistant", content=result.answer)


async def test_cloud_that_does_not_fit_falls_back_to_the_device() -> None:
    s = session(make_policy("always-cloud"), Budget(dollars=0.000001))
    result = await s.ask(Request.of("hello", max_tokens=500))
    assert result.endpoint == "device" and result.fallback and "does not fit" in result.reason
    assert s.spent.dollars == 0


async def test_nothing_fits_is_a_clear_refusal() -> None:
    s = session(make_policy("always-device"), Budget(latency_s=0.01))
    result = await s.ask(Request.of("hello", max_tokens=500))
    assert result.refused and result.endpoint is None and "refused" in result.reason
    assert s.stats.refusals == 1


async def test_outage_makes_the_device_answer_and_says_why() -> None:
    clock = VirtualClock()
    s = session(make_policy("always-cloud"), clock=clock, outages=(Outage(start_s=0, end_s=10),))
    first = await s.ask(Request.of("hi", max_tokens=10))
    assert first.endpoint == "device" and "unreachable" in first.reason
    clock.advance(20)
    second = await s.ask(Request.of("hi again", max_tokens=10))
    assert second.endpoint == "cloud"


async def test_outage_during_the_call_falls_back_without_losing_the_turn() -> None:
    # the link goes down 30 ms in: the upload (~20 ms RTT/2 + bytes) starts fine, the reply cannot come back
    s = session(make_policy("always-cloud"), outages=(Outage(start_s=0.03, end_s=None),))
    result = await s.ask(Request.of("x" * 50, max_tokens=20))
    assert result.endpoint == "device" and result.fallback and "failed" in result.reason
    assert s.stats.turns == 1 and len(s.history) == 2


async def test_private_requests_never_leave_the_device_zone() -> None:
    s = session(make_policy("always-cloud"))
    result = await s.ask(Request.of("my blood test results are ...", private=True))
    assert result.endpoint == "device" and "private data" in result.reason
    s2 = session(make_policy("always-cloud"), residency=Residency(private_zones=frozenset({"device", "cloud"})))
    assert (await s2.ask(Request.of("ok to share", private=True))).endpoint == "cloud"


async def test_private_attachment_and_text_only_endpoint_filtering() -> None:
    photo = Attachment(kind="image", mime="image/jpeg", size_bytes=200_000, description="front camera")
    secret = Attachment(kind="document", mime="text/plain", size_bytes=2_000, description="medical record", private=True)
    notes = Attachment(kind="document", mime="text/plain", size_bytes=1_000, description="meeting notes")
    s = session(make_policy("always-cloud"), cloud=SimulatedEndpoint("cloud", cloud_profile(modalities=("text", "document")), "cloud"),
                scorer=LexicalRelevance())
    ask = "summarise the meeting notes, the medical record and the front camera"
    result = await s.ask(Request(messages=(Message(role="user", content=ask),), attachments=(photo, secret, notes)))
    assert result.endpoint == "cloud"
    assert result.attachments_sent == (2,)  # the image needs a vision model; the record is private


async def test_history_plans_shape_what_travels() -> None:
    history = (
        Message(role="system", content="be brief"),
        Message(role="user", content="q1"), Message(role="assistant", content="a1"),
        Message(role="user", content="q2"), Message(role="assistant", content="a2"),
    )
    new = (Message(role="user", content="q3"),)
    assert plan_messages(history, new, HistoryPlan(kind="full")) == history + new
    assert plan_messages(history, new, HistoryPlan(kind="none")) == (history[0], *new)
    assert plan_messages(history, new, HistoryPlan(kind="last_k", k=1)) == (history[0], *history[3:], *new)
    summary = plan_messages(history, new, HistoryPlan(kind="summary", k=1), summary="they asked q1")
    assert summary[1].content.endswith("they asked q1") and summary[2:] == (*history[3:], *new)


async def test_handoff_sends_the_planned_history_and_charges_its_bytes() -> None:
    full = session(make_policy("always-cloud"))
    bare = session(make_policy("always-cloud"), history_plan=HistoryPlan(kind="none"))
    for s in (full, bare):
        for i in range(3):
            await s.ask(Request.of(f"question number {i} " + "context " * 40, max_tokens=10))
    assert full.spent.bytes_up > bare.spent.bytes_up
    assert full.spent.input_tokens > bare.spent.input_tokens


async def test_prefix_tracker_counts_shared_prefix() -> None:
    tracker = PrefixTracker()
    first = (Message(role="user", content="a" * 400), Message(role="assistant", content="b"))
    tracker.record("cloud", first)
    assert tracker.cached_tokens("cloud", (*first, Message(role="user", content="next"))) > 100
    assert tracker.cached_tokens("edge", first) == 0


class _Scripted(Policy):
    name = "scripted"

    def __init__(self, target: str) -> None:
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        return Action(endpoint=self.target, reason="script")


async def test_unknown_endpoint_from_a_policy_goes_to_the_device() -> None:
    result = await session(_Scripted("moon")).ask(Request.of("hi"))
    assert result.endpoint == "device" and "unknown endpoint" in result.reason


async def test_threshold_and_random_and_pacing() -> None:
    threshold = session(make_policy("threshold", threshold=0.1))
    assert (await threshold.ask(Request.of("short"))).endpoint == "device"
    assert (await threshold.ask(Request.of("long " * 100))).endpoint == "cloud"
    rand = session(make_policy("random", p_remote=0.5, seed=3))
    picks = [(await rand.ask(Request.of(f"q{i}", max_tokens=5))).endpoint for i in range(20)]
    assert 3 < picks.count("cloud") < 17
    pacing = session(make_policy("budget-pacing"), Budget(dollars=0.002), expected_turns=4)
    results = [await pacing.ask(Request.of(f"question {i}", max_tokens=100)) for i in range(4)]
    assert any(r.endpoint == "cloud" for r in results) and pacing.spent.dollars <= 0.002


class _Drafting(Policy):
    """A cascade stand-in that escalates when the draft is short."""

    name = "drafting"

    async def decide(self, state: TurnState) -> Action:
        if state.draft is None:
            return Action(endpoint=state.device, reason="draft", draft=True)
        if len(state.draft.text) > 5:
            return Action(endpoint=state.device, reason="accept", use_draft=True)
        return Action(endpoint="cloud", reason="escalate")


async def test_cascade_flow_accepts_or_escalates_and_charges_the_draft() -> None:
    s = session(_Drafting())
    result = await s.ask(Request.of("hi", max_tokens=10))
    assert result.used_draft and result.endpoint == "device"
    terse = session(_Drafting())
    terse.endpoints["device"] = SimulatedEndpoint("device", DEVICE, "phone", answer="no", output_tokens=1)
    escalated = await terse.ask(Request.of("hi", max_tokens=10))
    assert escalated.endpoint == "cloud" and escalated.usage.output_tokens > 1  # draft + cloud both charged


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price_in=st.floats(0.01, 60), price_out=st.floats(0.01, 120),
    budget=st.floats(0.0, 0.02), max_tokens=st.integers(1, 2000),
    prompts=st.lists(st.text(min_size=1, max_size=600), min_size=1, max_size=6),
    policy=st.sampled_from(["always-cloud", "random", "threshold", "budget-pacing", "cascade"]),
    plan=st.sampled_from(["full", "last_k", "none"]),
)
async def test_dollar_budget_is_never_exceeded(price_in: float, price_out: float, budget: float, max_tokens: int,
                                               prompts: list[str], policy: str, plan: str) -> None:
    cloud = SimulatedEndpoint("cloud", cloud_profile(price_in, price_out), "cloud")  # uses all max_tokens
    params = {"threshold": {"threshold": 0.0}, "random": {"seed": 1}}.get(policy, {})
    s = session(make_policy(policy, **params), Budget(dollars=budget), cloud=cloud,
                history_plan=HistoryPlan(kind=plan), expected_turns=len(prompts))  # type: ignore[arg-type]
    for prompt in prompts:
        result = await s.ask(Request.of(prompt, max_tokens=max_tokens))
        assert not result.refused  # the device, which is free, always fits a dollar-only budget
    assert s.spent.dollars <= budget + 1e-12
    assert s.stats.dollar_violations == 0
    assert s.stats.turns == len(prompts)


def test_completion_type_is_exported() -> None:
    assert Completion.model_fields["origin"]


class _Recording(SimulatedEndpoint):
    """A simulated cloud that remembers what it was sent."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.seen: list[Request] = []

    async def complete(self, request: Request) -> Completion:
        self.seen.append(request)
        return await super().complete(request)


async def test_summary_plan_has_the_device_summarise_older_turns() -> None:
    cloud = _Recording("cloud", cloud_profile(), "cloud", output_tokens=10)
    s = session(make_policy("always-cloud"), cloud=cloud, history_plan=HistoryPlan(kind="summary", k=1))
    for i in range(3):
        await s.ask(Request.of(f"question {i} about the trip to Lisbon", max_tokens=10))
    last = cloud.seen[-1].messages
    assert last[0].role == "system" and last[0].content.startswith("Summary of the earlier conversation:")
    assert [m.content for m in last if m.role == "user"][-2:] == ["question 1 about the trip to Lisbon", "question 2 about the trip to Lisbon"]
    result_usage = s.spent
    assert result_usage.output_tokens > 3 * 10  # the device's summary tokens are charged too


async def test_prefix_the_cloud_already_holds_is_charged_at_the_cached_price() -> None:
    cached_profile = cloud_profile().model_copy(update={"price_cached_in_per_mtok": 0.25})
    plain = session(make_policy("always-cloud"), cloud=SimulatedEndpoint("cloud", cloud_profile(), "cloud", output_tokens=5))
    cached = session(make_policy("always-cloud"), cloud=SimulatedEndpoint("cloud", cached_profile, "cloud", output_tokens=5))
    long_context = "background " * 300
    for s in (plain, cached):
        await s.ask(Request.of(long_context, max_tokens=5))
        second = await s.ask(Request.of("and now?", max_tokens=5))
    assert second.usage.cached_tokens > 500
    assert cached.spent.dollars < plain.spent.dollars


async def test_n_endpoints_pacing_picks_the_most_capable_that_fits() -> None:
    clock = VirtualClock()
    edge_profile = cloud_profile(price_in=0.2, price_out=0.6).model_copy(update={"name": "edge", "tier": "edge"})
    endpoints = {
        "device": SimulatedEndpoint("device", DEVICE, "phone", output_tokens=20),
        "edge": LinkedEndpoint(SimulatedEndpoint("edge", edge_profile, "edge", output_tokens=50), link(), clock),
        "cloud": LinkedEndpoint(SimulatedEndpoint("cloud", cloud_profile(), "cloud", output_tokens=50), link(), clock),
    }
    # a per-turn share of $0.0005: the cloud's worst case (~$0.0051 for 500 tokens) does not fit, the edge's does
    s = Session(endpoints, "device", make_policy("budget-pacing"), Budget(dollars=0.002), expected_turns=4,
                zones={"device": "device", "edge": "edge", "cloud": "cloud"})
    result = await s.ask(Request.of("plan my week", max_tokens=500))
    assert result.endpoint == "edge" and "edge fits" in result.reason
    generous = Session(endpoints, "device", make_policy("budget-pacing"), Budget(dollars=1.0), expected_turns=4,
                       zones={"device": "device", "edge": "edge", "cloud": "cloud"})
    assert (await generous.ask(Request.of("plan my week", max_tokens=500))).endpoint == "cloud"


class _LetterDevice(SimulatedEndpoint):
    """A device whose draft names option B with a known share of the letter probability."""

    def __init__(self, share: float) -> None:
        super().__init__("device", DEVICE, "phone", answer="\\boxed{B}", output_tokens=4)
        self.share = share

    async def complete(self, request: Request) -> Completion:
        import math

        completion = await super().complete(request)
        top = {"B": math.log(self.share), "C": math.log(1 - self.share)}
        return completion.model_copy(update={"top_logprobs": ({"\\boxed{": -0.01}, top), "token_logprobs": (-0.01, -0.5)})


@pytest.mark.parametrize(("share", "accepted"), [(0.9, True), (0.6, False)])
async def test_cascade_reads_the_option_letters_share(share: float, accepted: bool) -> None:
    s = session(make_policy("cascade", min_choice_share=0.75, min_logprob=None))
    s.endpoints["device"] = _LetterDevice(share)
    result = await s.ask(Request.of("Which? A. x B. y C. z", max_tokens=8))
    assert (result.endpoint == "device") is accepted
    assert ("choice share 0.90>=0.75" if accepted else "choice share 0.60 failed") in result.reason


async def test_a_turn_the_budget_pushes_down_tier_says_so() -> None:
    """The cloud does not fit the dollars left, so the device answers: a down-tier fallback; a
    cloud that is merely down is a fallback but not down-tier."""
    poor = session(make_policy("always-cloud"), Budget(dollars=1e-7))
    result = await poor.ask(Request.of("hello there", max_tokens=50))
    assert result.endpoint == "device" and result.fallback and result.down_tier
    down = session(make_policy("always-cloud"), Budget(dollars=1.0), outages=(Outage(start_s=0.0),))
    result = await down.ask(Request.of("hello there", max_tokens=50))
    assert result.endpoint == "device" and not result.down_tier
