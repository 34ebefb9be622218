"""The link model, live emulation (really waits, fails in outages) and simulated mode."""

from __future__ import annotations

import time

import pytest

from tierlink.core.errors import LinkDown
from tierlink.core.ledger import Ledger
from tierlink.core.messages import Request
from tierlink.data import shipped
from tierlink.endpoints.outcome_table import OutcomeTable
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.network.availability import AvailabilityTrace, Outage
from tierlink.network.clock import RealClock, VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.network.registry import link_profiles
from tierlink.network.wire_size import request_bytes


@pytest.fixture(scope="module")
def table() -> OutcomeTable:
    return OutcomeTable.from_path(shipped("routerarena_mcq.csv"))


def _replay(table: OutcomeTable, profile: EndpointProfile) -> ReplayEndpoint:
    return ReplayEndpoint("cloud", table, "gemini-2.0-flash-001", profile, "cloud")


def _slow_link(outages: tuple[Outage, ...] = ()) -> Link:
    # 0.2 Mbit/s, 200 ms RTT: a ~1.5 kB request takes ~0.16 s one way
    return Link(name="slow", a="phone", b="cloud", up_mbps=0.2, down_mbps=0.4, rtt_ms=200,
                availability=AvailabilityTrace(outages=outages))


def test_transfer_time_model() -> None:
    link = Link(name="l", a="a", b="b", up_mbps=8.0, down_mbps=80.0, rtt_ms=100.0)
    # 1 MB up at 8 Mbit/s = 1 s serialization + 50 ms propagation
    assert link.transfer_seconds(1_000_000, "up") == pytest.approx(1.05)
    assert link.transfer_seconds(1_000_000, "down") == pytest.approx(0.15)
    lossy = link.model_copy(update={"loss": 0.1})
    packets = -(-1_000_000 // 1460)
    assert lossy.transfer_seconds(1_000_000, "up") == pytest.approx(
        0.05 + 1.0 / 0.9 + 0.1 * packets * 0.1
    )


def test_offline_profile_is_always_down() -> None:
    offline = Link.from_profile("o", "a", "b", link_profiles()["offline"])
    assert not offline.is_up(0.0) and not offline.is_up(1e6)


async def test_live_link_really_waits_the_modelled_time(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    endpoint = LinkedEndpoint(_replay(table, cloud_profile), _slow_link(), RealClock())
    prompt_id = table.prompt_ids()[0]
    request = Request.of(table.get("gemini-2.0-flash-001", prompt_id).prompt, prompt_id=prompt_id)
    started = time.perf_counter()
    completion = await endpoint.complete(request)
    waited = time.perf_counter() - started
    modelled = completion.usage.latency.network_s
    assert modelled > 0.2
    assert waited == pytest.approx(modelled, rel=0.25, abs=0.05)
    assert completion.usage.bytes_up == request_bytes(request, cloud_profile.model)
    assert "replay" in completion.usage.origins and "simulated" in completion.usage.origins


async def test_live_link_fails_during_outage(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    endpoint = LinkedEndpoint(_replay(table, cloud_profile), _slow_link((Outage(start_s=0.0, end_s=30.0),)), RealClock())
    prompt_id = table.prompt_ids()[0]
    with pytest.raises(LinkDown) as info:
        await endpoint.complete(Request.of("x", prompt_id=prompt_id))
    assert info.value.until_s == 30.0 and "down" in str(info.value)


async def test_outage_starting_mid_transfer_fails_at_its_start(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    clock = VirtualClock()
    endpoint = LinkedEndpoint(_replay(table, cloud_profile), _slow_link((Outage(start_s=0.05, end_s=5.0),)), clock)
    with pytest.raises(LinkDown):
        await endpoint.complete(Request.of("x", prompt_id=table.prompt_ids()[0]))
    assert clock.now() == pytest.approx(0.05)


async def test_simulated_mode_gives_same_totals_without_waiting(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    ids = table.prompt_ids()[:3]
    requests = [Request.of(table.get("gemini-2.0-flash-001", p).prompt, prompt_id=p, turn=i) for i, p in enumerate(ids)]
    live_ledger, sim_ledger = Ledger(), Ledger()
    live = LinkedEndpoint(_replay(table, cloud_profile), _slow_link(), RealClock(), live_ledger)
    sim = LinkedEndpoint(_replay(table, cloud_profile), _slow_link(), VirtualClock(), sim_ledger)
    live_usage = [(await live.complete(r)).usage for r in requests]
    started = time.perf_counter()
    sim_usage = [(await sim.complete(r)).usage for r in requests]
    assert time.perf_counter() - started < 0.2
    assert sum(live_usage) == sum(sim_usage)
    assert live_ledger.total() == sim_ledger.total()
    assert sim_ledger.by_round()[2].transfers == 2  # request up, response down
    assert sim_ledger.by_edge()[("phone", "cloud")].tokens == sum(u.input_tokens for u in sim_usage)


async def test_failed_call_still_records_the_upload(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    ledger = Ledger()
    endpoint = LinkedEndpoint(_replay(table, cloud_profile), _slow_link(), VirtualClock(), ledger)
    with pytest.raises(Exception, match="no recorded answer"):
        await endpoint.complete(Request.of("a prompt nobody recorded"))
    assert len(ledger) == 1 and list(ledger)[0].bytes > 0


async def test_streaming_through_a_link_pays_it_and_keeps_the_text(table: OutcomeTable, cloud_profile: EndpointProfile) -> None:
    ledger = Ledger()
    endpoint = LinkedEndpoint(_replay(table, cloud_profile), _slow_link(), VirtualClock(), ledger)
    prompt_id = table.prompt_ids()[2]
    pieces: list[str] = []
    final = None
    async for chunk in endpoint.stream(Request.of("x", prompt_id=prompt_id)):
        if chunk.completion is None:
            pieces.append(chunk.text)
        else:
            final = chunk.completion
    assert final is not None and "".join(pieces) == final.text
    assert final.usage.latency.network_s > 0 and final.usage.bytes_down > 0
    assert len(ledger) == 2


def test_wrappers_answer_as_their_endpoint_and_unwrap_to_it() -> None:
    from tierlink.endpoints.base import unwrapped
    from tierlink.endpoints.breaker import BreakerEndpoint
    from tierlink.endpoints.simulated import SimulatedEndpoint

    profile = EndpointProfile(name="c", tier="cloud", hardware="t", model="m", context_window=1000,
                              price_out_per_mtok=1.0, decode_tokens_per_s=10, prefill_tokens_per_s=100, ttft_s=0.1,
                              source="test fixture")
    model = SimulatedEndpoint("cloud", profile, "cloud")
    link = Link(name="l", a="phone", b="cloud", up_mbps=10, down_mbps=10, rtt_ms=10,
                availability=AvailabilityTrace(outages=(Outage(start_s=0, end_s=1e9),)))
    wrapped = LinkedEndpoint(BreakerEndpoint(model), link, VirtualClock())
    assert (wrapped.name, wrapped.profile, wrapped.node) == (model.name, model.profile, model.node)
    assert wrapped.unwrap() is model and unwrapped(wrapped) is model and unwrapped(model) is model
    assert not wrapped.available() and model.available()  # the link's outage, not the model's
