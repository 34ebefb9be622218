"""openai_compat against real servers on 127.0.0.1: llama-cpp-python's server and a fault server."""

from __future__ import annotations

import time

import httpx
import pytest

from tierlink.core.errors import EndpointError, EndpointTimeout, EndpointUnavailable, RateLimited
from tierlink.core.messages import Message, Request
from tierlink.endpoints.base import collect
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.profile import EndpointProfile

from .servers.process import free_port


def _endpoint(base_url: str, profile: EndpointProfile, **kw: object) -> OpenAICompatEndpoint:
    return OpenAICompatEndpoint("remote", base_url, "gemma-server", profile, "cloud", **kw)  # type: ignore[arg-type]


CHAT = Request(
    messages=(
        Message(role="system", content="You are a helpful assistant."),
        Message(role="user", content="What is the capital of France?"),
    ),
    max_tokens=16,
)


@pytest.mark.model
async def test_non_streaming_against_llama_cpp_server(llama_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(llama_server, cloud_profile)
    try:
        completion = await endpoint.complete(CHAT)
    finally:
        await endpoint.aclose()
    assert completion.text
    assert completion.usage.input_tokens > 5 and 0 < completion.usage.output_tokens <= 16
    assert completion.usage.dollars == pytest.approx(cloud_profile.dollars(completion.usage.input_tokens, completion.usage.output_tokens))
    assert completion.origin == "live" and completion.usage.latency.total_s > 0
    with_logprobs = await _endpoint(llama_server, cloud_profile).complete(CHAT.model_copy(update={"logprobs": True}))
    assert with_logprobs.token_logprobs and all(lp <= 0 for lp in with_logprobs.token_logprobs)
    assert with_logprobs.top_logprobs and len(with_logprobs.top_logprobs[0]) > 1


@pytest.mark.model
async def test_streaming_against_llama_cpp_server(llama_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(llama_server, cloud_profile)
    pieces: list[str] = []
    final = None
    try:
        async for chunk in endpoint.stream(CHAT):
            if chunk.completion is None:
                pieces.append(chunk.text)
            else:
                final = chunk.completion
    finally:
        await endpoint.aclose()
    assert final is not None and len(pieces) >= 2
    assert "".join(pieces) == final.text
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    assert final.usage.latency.prefill_s > 0  # time to first token measured
    # llama-cpp-python's server streams no usage: the counts are estimates, and say so
    assert final.usage.origins == {"live", "simulated"}
    assert any("estimated" in note for note in final.notes)


async def test_429_with_retry_after_is_honoured_then_succeeds(fault_server: str, cloud_profile: EndpointProfile) -> None:
    httpx.post(f"{fault_server}/reset")
    endpoint = _endpoint(f"{fault_server}/ratelimit/v1", cloud_profile, max_retries=3)
    started = time.perf_counter()
    completion = await endpoint.complete(CHAT)
    elapsed = time.perf_counter() - started
    await endpoint.aclose()
    assert completion.text == "all good"
    assert httpx.get(f"{fault_server}/stats").json()["ratelimit"] == 3
    assert elapsed >= 2.0  # two Retry-After: 1 waits


async def test_429_beyond_retry_budget_is_rate_limited_with_message(fault_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(f"{fault_server}/ratelimit_long/v1", cloud_profile, max_retries=3, max_retry_wait_s=5)
    started = time.perf_counter()
    with pytest.raises(RateLimited) as info:
        await endpoint.complete(CHAT)
    await endpoint.aclose()
    assert time.perf_counter() - started < 2.0  # a 3600 s Retry-After is not waited out
    assert info.value.retry_after == pytest.approx(3600)
    assert "quota exhausted" in info.value.upstream_message


async def test_500_is_retried_a_bounded_number_of_times(fault_server: str, cloud_profile: EndpointProfile) -> None:
    httpx.post(f"{fault_server}/reset")
    endpoint = _endpoint(f"{fault_server}/error500/v1", cloud_profile, max_retries=2)
    with pytest.raises(EndpointError) as info:
        await endpoint.complete(CHAT)
    await endpoint.aclose()
    assert info.value.status == 500
    assert "out of GPU memory" in info.value.upstream_message
    assert httpx.get(f"{fault_server}/stats").json()["error500"] == 3


async def test_stall_past_timeout_is_a_timeout(fault_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(f"{fault_server}/stall/v1", cloud_profile, timeout_s=1.0)
    started = time.perf_counter()
    with pytest.raises(EndpointTimeout):
        await endpoint.complete(CHAT)
    await endpoint.aclose()
    assert time.perf_counter() - started < 3.0


async def test_stream_cut_halfway_is_reported_not_truncated(fault_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(f"{fault_server}/halfstream/v1", cloud_profile)
    with pytest.raises(EndpointUnavailable, match="stream"):
        await collect(endpoint.stream(CHAT))
    await endpoint.aclose()


async def test_fault_server_stream_ok_has_usage(fault_server: str, cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(f"{fault_server}/ok/v1", cloud_profile)
    completion = await collect(endpoint.stream(CHAT))
    await endpoint.aclose()
    assert completion.text == "all good here"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (7, 3)


async def test_dead_endpoint_is_unavailable(cloud_profile: EndpointProfile) -> None:
    endpoint = _endpoint(f"http://127.0.0.1:{free_port()}/v1", cloud_profile, max_retries=1)
    with pytest.raises(EndpointUnavailable, match="cannot connect"):
        await endpoint.complete(CHAT)
    await endpoint.aclose()


async def test_api_key_comes_from_the_named_environment_variable(fault_server: str, cloud_profile: EndpointProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TEST_KEY", "sk-test-123")
    endpoint = OpenAICompatEndpoint("remote", f"{fault_server}/ok/v1", "m", cloud_profile, "cloud", api_key_env="MY_TEST_KEY")
    assert endpoint._poster.headers["Authorization"] == "Bearer sk-test-123"
    await endpoint.aclose()


def test_one_endpoint_serves_several_event_loops(fault_server: str, cloud_profile: EndpointProfile) -> None:
    """A CLI or benchmark may call asyncio.run more than once over the same endpoint."""
    import asyncio

    endpoint = _endpoint(f"{fault_server}/ok/v1", cloud_profile)
    for _ in range(3):
        assert asyncio.run(endpoint.complete(Request.of("hi", max_tokens=4))).text == "all good"
