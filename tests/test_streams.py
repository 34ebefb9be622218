"""A cloud coordinator scheduling a fleet's request streams: under overload it keeps answers
inside their budgets (always offloading does not), it answers alone during a gap, its ledger is
exact, and the same code runs with a real model answering."""

from __future__ import annotations

import pytest

from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.network.availability import AvailabilityTrace, Outage
from tierlink.scale.recorded_agents import RecordedAgents
from tierlink.scale.stream_answerers import LiveAnswerer, ReplayAnswerer
from tierlink.scale.streams import (
    CONTROL_BYTES,
    StreamConfig,
    StreamPolicy,
    StreamResult,
    run_streams,
)

OVERLOAD = StreamConfig(agents=300, horizon_s=300, requests_per_agent_per_min=4, cloud_slots=8, seed=1)


@pytest.fixture(scope="module")
def answerer() -> ReplayAnswerer:
    return ReplayAnswerer(RecordedAgents.load(), "gemma-2-2b-it", "gpt-4o-2024-08-06")


async def test_under_overload_the_coordinator_keeps_the_budget_and_always_offloading_does_not(answerer: ReplayAnswerer) -> None:
    figures = {p: (await run_streams(OVERLOAD, p, answerer, answerer.questions)).figures() for p in ("local", "cloud", "coordinator")}
    assert figures["cloud"]["on_time"] < 0.1 and figures["coordinator"]["on_time"] > 0.95
    assert 0.05 < figures["coordinator"]["cloud"] < 0.9  # it offloads what the cloud can take in time, no more
    assert figures["coordinator"]["right_on_time"] > figures["local"]["right_on_time"] + 0.03
    assert figures["coordinator"]["dollars"] < figures["cloud"]["dollars"]


async def test_the_ledger_holds_every_offload_exactly(answerer: ReplayAnswerer) -> None:
    config = StreamConfig(agents=50, horizon_s=120, requests_per_agent_per_min=2, seed=3)
    result = await run_streams(config, "coordinator", answerer, answerer.questions)
    offloaded = [s for s in result.served if s.where == "cloud"]
    up = [t for t in result.ledger if t.receiver == "cloud"]
    down = [t for t in result.ledger if t.sender == "cloud"]
    assert len(up) == len(down) == len(offloaded) > 0
    assert all(t.bytes == config.prompt_tokens * 4 + CONTROL_BYTES for t in up)
    cloud_charges = [c for c in result.ledger.charges if c.callee == "cloud"]
    assert len(cloud_charges) == len(offloaded) and len(result.ledger.charges) == len(result.served)
    assert result.ledger.spent().dollars == pytest.approx(sum(c.usage.dollars for c in cloud_charges)) and result.ledger.spent().dollars > 0
    assert sum(t.tokens for t in down) == sum(c.usage.output_tokens for c in cloud_charges)


async def test_an_agent_cut_off_answers_alone_and_one_that_must_offload_waits(answerer: ReplayAnswerer) -> None:
    config = StreamConfig(agents=1, horizon_s=60, requests_per_agent_per_min=6, seed=0,
                          shared_outages=(Outage(start_s=0.0, end_s=100.0),))  # the agent's link is down for 100 s
    gap = AvailabilityTrace(outages=config.shared_outages)
    assert gap.next_up(5.0) == 100.0 and gap.next_up(150.0) == 150.0

    async def run(policy: StreamPolicy) -> StreamResult:
        return await run_streams(config, policy, answerer, answerer.questions)
    alone, waiting = await run("coordinator"), await run("cloud")
    assert all(s.where == "device" and s.on_time for s in alone.served) and alone.ledger.total().transfers == 0
    assert all(s.finished_s > 100.0 and not s.on_time for s in waiting.served)


async def test_the_same_scheduling_runs_with_a_real_model_answering(gemma: LlamaCppEndpoint) -> None:
    items = [("What is the capital of France? Answer with one word.", "Paris"), ("What is 2 + 2? Answer with a number.", "4")]
    live = LiveAnswerer(gemma, gemma, items, max_tokens=8)
    config = StreamConfig(agents=2, horizon_s=120, requests_per_agent_per_min=3, latency_budget_s=30, seed=2)
    result = await run_streams(config, "coordinator", live, live.questions)
    assert len(result.served) == len(live.calls) > 0
    for served, (where, seconds) in zip(result.served, live.calls, strict=True):
        assert served.where == where and served.finished_s - served.arrived_s >= seconds  # the measured time is the service time
