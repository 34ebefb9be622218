"""One accounting path: what a session spends, what its ledger holds and what the gateway stores
agree to the last micro-dollar, over random conversations, faults and prices (hypothesis).

Sessions here use simulated endpoints behind modelled links (outages on a virtual clock); the
gateway test drives real HTTP upstreams that fail on purpose (tests/servers/fault_server.py).
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_session import DEVICE, cloud_profile
from tierlink.agents.patterns.debate import debate
from tierlink.agents.result import Task
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import parse_topology
from tierlink.config.load import load_config
from tierlink.context.history import HistoryPlan
from tierlink.core import Budget, Ledger, Request
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.availability import AvailabilityTrace, Outage
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.network.node import Node
from tierlink.routing.policy import make_policy
from tierlink.routing.session import Session
from tierlink.serve.gateway import Caller, Gateway
from tierlink.serve.refusals import OverBudget, Refusal
from tierlink.serve.store import Store
from tierlink.serve.wire import ChatRequest

MICRO = 1e-6
POLICIES = ("always-cloud", "always-device", "random", "cascade", "budget-pacing")
prices = st.tuples(st.floats(0.0, 30.0), st.floats(0.0, 60.0), st.one_of(st.none(), st.floats(0.0, 1.0)))
outages = st.lists(st.tuples(st.floats(0.0, 30.0), st.floats(0.1, 20.0)), max_size=3)
prompts = st.lists(st.text("abcdefgh ?", min_size=1, max_size=300), min_size=1, max_size=6)


def _session(price: tuple[float, float, float | None], down: list[tuple[float, float | None]], policy: str,
             plan: str, dollars: float | None) -> tuple[Session, Ledger]:
    price_in, price_out, cached_share = price
    profile = cloud_profile(price_in, price_out).model_copy(
        update={"price_cached_in_per_mtok": None if cached_share is None else price_in * cached_share})
    clock, ledger = VirtualClock(), Ledger()
    trace = AvailabilityTrace(outages=tuple(Outage(start_s=s, end_s=None if d is None else s + d) for s, d in down))
    link = Link(name="5g", a="phone", b="cloud", up_mbps=20, down_mbps=100, rtt_ms=40, availability=trace)
    endpoints = {
        "device": SimulatedEndpoint("device", DEVICE, "phone", answer="device answer", output_tokens=20),
        "cloud": LinkedEndpoint(SimulatedEndpoint("cloud", profile, "cloud", output_tokens=50), link, clock, ledger),
    }
    params = {"seed": 3} if policy == "random" else {"samples": 2} if policy == "cascade" else {}
    session = Session(endpoints, "device", make_policy(policy, **params), Budget(dollars=dollars),
                      zones={"device": "device", "cloud": "cloud"}, history_plan=HistoryPlan(kind=plan, k=1),  # type: ignore[arg-type]
                      charges=ledger)
    return session, ledger


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price=prices, down=outages, policy=st.sampled_from(POLICIES), plan=st.sampled_from(["full", "last_k", "summary", "none"]),
       dollars=st.one_of(st.none(), st.floats(0.0, 0.01)), texts=prompts)
def test_session_spend_equals_its_ledger_and_its_turns(price, down, policy, plan, dollars, texts) -> None:  # type: ignore[no-untyped-def]
    session, ledger = _session(price, down, policy, plan, dollars)
    results = [asyncio.run(session.ask(Request.of(text, max_tokens=60))) for text in texts]
    spent = ledger.spent()
    assert abs(spent.dollars - session.spent.dollars) < MICRO
    assert abs(ledger.total().dollars - sum(r.usage.dollars for r in results)) < MICRO
    assert spent.input_tokens == session.spent.input_tokens == sum(r.usage.input_tokens for r in results)
    assert spent.output_tokens == sum(r.usage.output_tokens for r in results)
    assert abs(spent.latency.total_s - sum(r.usage.latency.total_s for r in results)) < 1e-9
    assert all(c.dollars >= 0 for c in ledger.charges)
    assert {c.round for c in ledger.charges} <= {r.turn for r in results}
    if dollars is not None:  # the budget is hard, and what is left is what was not charged
        assert session.spent.dollars <= dollars + 1e-12
        assert abs(session.budget.dollars - (dollars - spent.dollars)) < MICRO  # type: ignore[operator]
    assert session.stats.dollar_violations == 0


def test_a_summary_for_a_handoff_is_charged_even_when_the_call_it_was_for_fails() -> None:
    """Writing the summary is device work done whether or not the cloud then answers: here the
    link goes down just as turn 4's upload starts (after the summary), and the device answers."""
    texts = ("first question", "second question", "third question", "fourth question")
    probe, _ = _session((2.5, 10.0, None), [], "always-cloud", "summary", None)
    for text in texts[:3]:
        asyncio.run(probe.ask(Request.of(text, max_tokens=60)))
    upload_starts = probe.endpoints["cloud"].clock.now()  # type: ignore[attr-defined]  # the virtual clock is deterministic
    session, ledger = _session((2.5, 10.0, None), [(upload_starts + 1e-6, None)], "always-cloud", "summary", None)
    for text in texts[:3]:
        asyncio.run(session.ask(Request.of(text, max_tokens=60)))
    result = asyncio.run(session.ask(Request.of(texts[3], max_tokens=60)))
    this_turn = ledger.spent(lambda c: c.round == result.turn)
    assert result.fallback and result.endpoint == "device"
    assert [c.kind for c in ledger.charges if c.round == result.turn] == ["summary", "answer"]
    assert result.usage.output_tokens == this_turn.output_tokens  # the summary's tokens are in the turn's usage
    assert abs(result.usage.latency.total_s - this_turn.latency.total_s) < 1e-9


def test_a_team_run_charges_every_call_once_and_its_messages_carry_no_money() -> None:
    profile = cloud_profile(3.0, 12.0)
    team = Team([Agent(f"a{i}", SimulatedEndpoint(f"sim{i}", profile, f"phone{i}", answer="yes", output_tokens=8),
                       Node(name=f"phone{i}", tier="device")) for i in range(4)])
    result = asyncio.run(debate(Task(id="t", question="Is water wet?"), team, parse_topology("full", team.names), rounds=2))
    charges = result.ledger.charges
    assert len(charges) == 4 * 3  # four agents, three rounds, one charge per call
    assert abs(result.ledger.total().dollars - sum(u.dollars for u in result.usage.values())) < MICRO
    assert abs(result.total_usage.dollars - sum(c.dollars for c in charges)) < MICRO
    assert result.ledger.total().transfers == 4 * 3 * 2  # messages: 12 edges, two revision rounds
    assert abs(sum(g.dollars for g in result.ledger.by_edge().values()) - result.ledger.total().dollars) < MICRO


GATEWAY = """
nodes: {{phone: {{tier: device, zone: device}}, edge: {{tier: edge}}, cloud: {{tier: cloud}}}}
links: {{e: {{a: phone, b: edge, profile: wifi}}, c: {{a: phone, b: cloud, profile: 5g}}}}
endpoints:
  device: {{kind: openai, node: phone, base_url: "{base}/ok/v1", model: fault-model, profile: {device}, max_retries: 0}}
  edge: {{kind: openai, node: edge, base_url: "{base}/{edge}/v1", model: fault-model, max_retries: 0, profile: {edge_profile}}}
  cloud: {{kind: openai, node: cloud, base_url: "{base}/{cloud}/v1", model: fault-model, max_retries: 0, profile: {cloud_profile}}}
policy: {{name: always-cloud}}
serve: {{stream_upstream: {stream}, session_dollars: {dollars}}}
"""
FAULTS = ("ok", "error500", "halfstream", "slow50")


def _inline(name: str, tier: str, price_in: float, price_out: float) -> str:
    zone = "device" if tier == "device" else tier
    return (f"{{name: {name}, tier: {tier}, hardware: test, model: fault-model, context_window: 8192, "
            f"price_in_per_mtok: {price_in}, price_out_per_mtok: {price_out}, decode_tokens_per_s: 50, "
            f"prefill_tokens_per_s: 500, ttft_s: 0.1, privacy_zone: {zone}, source: test fixture}}")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edge=st.sampled_from(FAULTS), cloud=st.sampled_from(FAULTS), stream=st.booleans(),
       price=st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 40.0)), dollars=st.sampled_from(["null", "0.0004", "0.01"]),
       live=st.booleans(), texts=st.lists(st.text("abcdef ", min_size=1, max_size=120), min_size=1, max_size=4))
def test_gateway_store_equals_the_charges_its_sessions_made(tmp_path_factory, fault_server: str, edge, cloud, stream,  # type: ignore[no-untyped-def]
                                                            price, dollars, live, texts) -> None:
    folder = tmp_path_factory.mktemp("gw")
    (folder / "gateway.yaml").write_text(GATEWAY.format(
        base=fault_server, edge=edge, cloud=cloud, stream=str(stream).lower(), dollars=dollars,
        device=_inline("dev", "device", 0.0, 0.0), edge_profile=_inline("edg", "edge", price[0] / 4, price[1] / 4),
        cloud_profile=_inline("cld", "cloud", *price)))
    config = load_config(folder / "gateway.yaml")
    store = Store(folder / "gateway.sqlite")
    gateway = Gateway(config, store)
    told = 0.0  # what the clients were told they spent
    refused_early = 0  # refused before any call (a spent session): nothing to record
    try:
        for text in texts:
            body = ChatRequest.model_validate({"model": "tierlink-auto", "user": "u1",
                                               "messages": [{"role": "user", "content": text}]})
            try:
                outcome = asyncio.run(gateway.chat(body, Caller(), sink=[].append if live else None))
            except OverBudget as exc:
                refused_early += "has used its budget" in str(exc)
                continue
            except Refusal:
                continue
            told += outcome.result.usage.dollars
        spend, charges = store.spend_totals("open:u1"), store.charge_totals("open:u1")
        record = store.session("open:u1")
        assert abs(spend["dollars"] - charges["dollars"]) < MICRO
        assert spend["input_tokens"] == charges["input_tokens"] and spend["output_tokens"] == charges["output_tokens"]
        assert record is None or abs(record.spent_dollars - spend["dollars"]) < MICRO
        assert told <= spend["dollars"] + MICRO  # refused turns are recorded too; nothing answered goes unrecorded
        assert spend["requests"] == len(texts) - refused_early
    finally:
        asyncio.run(gateway.aclose())
        store.close()
