"""An upstream that lies or breaks the protocol (a real server on 127.0.0.1) is caught at the
endpoint: over-reported usage billed at the call's bound, broken usage, lines and bodies as
endpoint errors a session falls back from, unencodable or overlong text made safe to show."""

from __future__ import annotations

import pytest

from tierlink.core.errors import EndpointError
from tierlink.core.messages import Request
from tierlink.endpoints.base import collect
from tierlink.endpoints.breaker import BreakerEndpoint, CircuitBreaker
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.upstream_checks import MAX_CHARS_PER_TOKEN, input_bound

ASK = Request.of("hi", max_tokens=16)
GPT4O = endpoint_profiles()["gpt-4o"]


async def _answer(fault_server: str, fault: str, stream: bool, endpoint: OpenAICompatEndpoint | None = None):  # type: ignore[no-untyped-def]
    endpoint = endpoint or OpenAICompatEndpoint("liar", f"{fault_server}/{fault}/v1", "fault-model", GPT4O, "cloud",
                                                api_key_env="TIERLINK_TEST_NO_KEY", timeout_s=10, max_retries=0)
    try:
        return await (collect(endpoint.stream(ASK)) if stream else endpoint.complete(ASK))
    finally:
        await endpoint.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_over_reported_usage_is_billed_at_the_calls_bound_and_flagged(fault_server: str, stream: bool) -> None:
    completion = await _answer(fault_server, "hugeusage", stream)  # the upstream says 1M/1M tokens
    usage = completion.usage
    assert (usage.input_tokens, usage.output_tokens) == (input_bound(ASK), ASK.max_tokens)
    assert usage.dollars == pytest.approx(GPT4O.dollars(input_bound(ASK), 16)) and usage.dollars < 0.001
    assert completion.usage_capped and any("usage capped" in note for note in completion.notes)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("fault, why", [("negusage", "prompt_tokens is -1000000"), ("textusage", "prompt_tokens is 'seven'"),
                                        ("badline", "malformed")])
async def test_broken_usage_or_lines_are_endpoint_errors(fault_server: str, stream: bool, fault: str, why: str) -> None:
    with pytest.raises(EndpointError, match=why):
        await _answer(fault_server, fault, stream)


async def test_a_body_far_beyond_max_tokens_is_not_read_into_memory(fault_server: str) -> None:
    with pytest.raises(EndpointError, match="answer larger than .* bytes for max_tokens 16"):
        await _answer(fault_server, "bigbody", stream=False)  # 5 MB for 16 tokens


@pytest.mark.parametrize("stream", [False, True])
async def test_overlong_and_unencodable_answers_are_cut_and_cleaned(fault_server: str, stream: bool) -> None:
    long = await _answer(fault_server, "longtext", stream)  # 20,000 characters for max_tokens 16
    assert len(long.text) == 16 * MAX_CHARS_PER_TOKEN and long.finish_reason == "length"
    odd = await _answer(fault_server, "surrogate", stream)
    assert odd.text == "bad \ufffd text" and odd.text.encode("utf-8")


async def test_a_capped_answer_counts_against_the_breaker(fault_server: str) -> None:
    breaker = CircuitBreaker(failures_to_open=2, reset_after_s=60)
    liar = OpenAICompatEndpoint("liar", f"{fault_server}/hugeusage/v1", "fault-model", GPT4O, "cloud",
                                api_key_env="TIERLINK_TEST_NO_KEY", timeout_s=10, max_retries=0)
    guarded = BreakerEndpoint(liar, breaker)
    for _ in range(2):
        assert (await guarded.complete(ASK)).usage_capped  # each answer is still used, billed at the bound
    await liar.aclose()
    assert breaker.state == "open" and not guarded.available()


async def test_an_event_over_several_data_lines_is_one_chunk_and_deep_nesting_is_an_endpoint_error() -> None:
    import httpx

    from tierlink.endpoints.sse import sse_data

    split = b'data: {"choices":[{"delta":{"content":"hi"},\ndata: "finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    events = [e async for e in sse_data("up", httpx.Response(200, content=split), 10_000)]
    assert events == [{"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]}]
    deep = b"data: " + b"[" * 200_000 + b"]" * 200_000 + b"\n\n"
    with pytest.raises(EndpointError, match="malformed stream chunk \\(RecursionError\\)"):
        [e async for e in sse_data("up", httpx.Response(200, content=deep), 10**6)]


def test_an_image_known_only_by_its_url_is_bounded_by_the_largest_image_the_provider_bills() -> None:
    from tierlink.core.messages import Attachment

    url_only = Attachment(kind="image", mime="image/*", size_bytes=0, url="https://example.org/cat.jpg")
    assert GPT4O.attachment_tokens(url_only) == 85 + 170 * 8  # 768 x 2048 after scaling: 2 x 4 tiles
