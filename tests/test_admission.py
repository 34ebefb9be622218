"""Admission control in front of a real slow upstream (127.0.0.1): bounded concurrency and queue,
a full queue turned away at once with a Retry-After estimate, a wait that ends at the request's
deadline; and the gateway answering 503 + Retry-After fast instead of queueing for minutes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.servers.gateway import gateway, upstream, write_config
from tests.servers.process import free_port
from tierlink.core.deadline import deadline_in, seconds_left
from tierlink.core.errors import EndpointBusy
from tierlink.core.messages import Request
from tierlink.endpoints.admission import AdmissionEndpoint
from tierlink.endpoints.breaker import counts_against
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles

ASK = Request.of("hi", max_tokens=4)


def _slow(fault_server: str, ms: int) -> OpenAICompatEndpoint:
    return OpenAICompatEndpoint("slow", f"{fault_server}/slow{ms}/v1", "fault-model", endpoint_profiles()["gpt-4o"], "cloud",
                                api_key_env="TIERLINK_TEST_NO_KEY", timeout_s=10, max_retries=0)


async def test_one_slot_one_queue_place_and_the_next_caller_is_turned_away_at_once(fault_server: str) -> None:
    slow = _slow(fault_server, 400)
    gate = AdmissionEndpoint(slow, max_concurrency=1, max_queue=1)
    first, second = asyncio.create_task(gate.complete(ASK)), asyncio.create_task(gate.complete(ASK))
    await asyncio.sleep(0.05)
    assert (gate.running, gate.waiting) == (1, 1) and not gate.available()
    started = time.monotonic()
    with pytest.raises(EndpointBusy, match="1 call\\(s\\) running and 1 waiting") as busy:
        await gate.complete(ASK)
    assert time.monotonic() - started < 0.1 and busy.value.retry_after > 0
    assert not counts_against(busy.value)  # a full queue says nothing about the upstream's health
    answers = await asyncio.gather(first, second)
    assert [a.text for a in answers] == ["all good", "all good"] and gate.available() and gate.turned_away == 1
    await slow.aclose()


async def test_a_wait_for_a_slot_ends_at_the_requests_deadline(fault_server: str) -> None:
    slow = _slow(fault_server, 1000)
    gate = AdmissionEndpoint(slow, max_concurrency=1, max_queue=4)
    running = asyncio.create_task(gate.complete(ASK))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with deadline_in(0.3):
        with pytest.raises(EndpointBusy, match="deadline"):
            await gate.complete(ASK)
    assert 0.25 < time.monotonic() - started < 0.6 and seconds_left() is None
    await running
    await slow.aclose()


async def test_an_upstream_call_stops_at_the_requests_deadline_not_its_own_timeout(fault_server: str) -> None:
    slow = _slow(fault_server, 3000)  # its own timeout is 10 s
    started = time.monotonic()
    with deadline_in(0.5):
        with pytest.raises(Exception, match="within 0.5s"):
            await slow.complete(ASK)
    assert time.monotonic() - started < 1.0
    await slow.aclose()


def test_the_gateway_turns_a_burst_away_with_503_and_retry_after(tmp_path: Path, fault_server: str) -> None:
    port_up = int(fault_server.rsplit(":", 1)[1])
    device = upstream(port_up, "slow1000", "laptop-cpu/gemma3-270m-q4", "robot", max_concurrency=1, max_queue=1)
    config = write_config(tmp_path / "gw.yaml", upstream(port_up, "ok", "gpt-4o", "cloud"),
                          upstream(port_up, "ok", "edge-l4/llama3.1-8b", "edge"), device, request_latency_s=5.0,
                          fallback=["device"])  # nothing to hand a turn to: a full device is a 503
    port = free_port()
    with gateway(config, port):
        async def burst() -> list[tuple[int, float, str | None]]:
            async with httpx.AsyncClient(timeout=30) as client:
                async def one() -> tuple[int, float, str | None]:
                    started = time.monotonic()
                    response = await client.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                                 json={"model": "device", "messages": [{"role": "user", "content": "hi"}]})
                    return response.status_code, time.monotonic() - started, response.headers.get("retry-after")
                return await asyncio.gather(*(one() for _ in range(6)))

        results = asyncio.run(burst())
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200, 200, 503, 503, 503, 503]  # one running, one queued, the rest turned away
        turned = [(seconds, retry) for status, seconds, retry in results if status == 503]
        assert all(seconds < 0.9 and retry is not None and int(retry) >= 1 for seconds, retry in turned)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'tierlink_endpoint_turned_away{endpoint="device"} 4.0' in metrics
        assert 'status="500"' not in metrics


def test_a_busy_device_hands_the_turn_to_the_next_tier(tmp_path: Path, fault_server: str) -> None:
    port_up = int(fault_server.rsplit(":", 1)[1])
    device = upstream(port_up, "slow1000", "laptop-cpu/gemma3-270m-q4", "robot", max_concurrency=1, max_queue=0)
    config = write_config(tmp_path / "gw.yaml", upstream(port_up, "ok", "gpt-4o", "cloud"),
                          upstream(port_up, "ok", "edge-l4/llama3.1-8b", "edge"), device, request_latency_s=30.0,
                          fallback=["edge", "device"])
    port = free_port()
    with gateway(config, port):
        async def two() -> list[dict]:
            async with httpx.AsyncClient(timeout=30) as client:
                async def one() -> dict:
                    response = await client.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                                 json={"model": "device", "messages": [{"role": "user", "content": "hi"}]})
                    assert response.status_code == 200, response.text
                    return response.json()["tierlink"]
                return await asyncio.gather(one(), one())

        answered = sorted(asyncio.run(two()), key=lambda t: t["endpoint"])
        assert [a["endpoint"] for a in answered] == ["device", "edge"]
        assert "queue full" in answered[1]["reason"] or "waiting (the most allowed)" in answered[1]["reason"]
