"""The embedded Gemma 3 270M answers through the llamacpp endpoint with real numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tierlink.core.errors import EndpointError, ModelNotFound
from tierlink.core.messages import Message, Request
from tierlink.endpoints.base import collect
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.prompt_format import qa_transcript

pytestmark = pytest.mark.model

QUESTION = "What is the capital of France?"


async def test_answers_with_real_usage_and_timing(gemma: LlamaCppEndpoint) -> None:
    completion = await gemma.complete(Request.of(QUESTION, max_tokens=16))
    assert "paris" in completion.text.lower()
    usage = completion.usage
    expected_prompt_tokens = len(gemma.load().tokenize(qa_transcript(Request.of(QUESTION).messages).encode(), add_bos=True))
    assert usage.input_tokens == expected_prompt_tokens
    assert 0 < usage.output_tokens <= 16
    assert usage.latency.decode_s > 0
    assert usage.latency.prefill_s >= 0
    assert completion.origin == "live" and "live" in usage.origins
    assert usage.dollars == 0.0
    assert usage.joules == pytest.approx(gemma.profile.power_w * (usage.latency.prefill_s + usage.latency.decode_s), rel=1e-6)


async def test_logprobs_and_entropy_come_from_llama_cpp(gemma: LlamaCppEndpoint) -> None:
    completion = await gemma.complete(Request.of(QUESTION, max_tokens=8, logprobs=True))
    assert completion.token_logprobs and completion.token_entropies and completion.top_logprobs
    assert all(lp <= 0 for lp in completion.token_logprobs)
    assert all(h >= 0 for h in completion.token_entropies)
    # greedy decoding: each chosen token is the most likely one
    for chosen, top in zip(completion.token_logprobs, completion.top_logprobs, strict=True):
        assert chosen == pytest.approx(max(top.values()), abs=1e-5)
    first_top = completion.top_logprobs[0]
    assert math.fsum(math.exp(v) for v in first_top.values()) <= 1.0 + 1e-6
    assert completion.mean_logprob is not None and completion.mean_logprob < 0


async def test_logprobs_do_not_change_the_answer(gemma: LlamaCppEndpoint) -> None:
    plain = await gemma.complete(Request.of("Name a colour of the sky.", max_tokens=12))
    probed = await gemma.complete(Request.of("Name a colour of the sky.", max_tokens=12, logprobs=True))
    assert plain.text == probed.text


async def test_stream_yields_the_same_text_as_complete(gemma: LlamaCppEndpoint) -> None:
    request = Request.of("List three fruits.", max_tokens=20)
    whole = await gemma.complete(request)
    pieces: list[str] = []
    final = None
    async for chunk in gemma.stream(request):
        if chunk.completion is None:
            pieces.append(chunk.text)
        else:
            final = chunk.completion
    assert final is not None and len(pieces) >= 2
    assert "".join(pieces).strip() == whole.text == final.text
    assert final.usage.input_tokens == whole.usage.input_tokens


async def test_repeated_prefix_is_reused_by_llama_cpp(gemma: LlamaCppEndpoint) -> None:
    history = (Message(role="user", content="Tell me about the moon."), Message(role="assistant", content="It orbits Earth."))
    first = Request(messages=(*history, Message(role="user", content="How far is it?")), max_tokens=4)
    second = Request(messages=(*history, Message(role="user", content="How big is it?")), max_tokens=4)
    await gemma.complete(first)
    reused = await gemma.complete(second)
    assert reused.usage.cached_tokens > 5


async def test_multi_turn_transcript_keeps_history() -> None:
    messages = (
        Message(role="system", content="Answer briefly."),
        Message(role="user", content="2+2?"),
        Message(role="assistant", content="4"),
        Message(role="user", content="3+3?"),
    )
    assert qa_transcript(messages) == "Answer briefly.\nQuestion: 2+2?\nAnswer: 4\nQuestion: 3+3?\nAnswer:"


async def test_concurrent_requests_are_serialised_not_lost(gemma: LlamaCppEndpoint) -> None:
    import asyncio

    results = await asyncio.gather(*(gemma.complete(Request.of(f"Count to {n}.", max_tokens=6)) for n in range(3)))
    assert len(results) == 3 and all(r.usage.output_tokens > 0 for r in results)
    assert max(r.usage.latency.queue_s for r in results) > 0


async def test_prompt_longer_than_context_is_a_clear_error(device_profile: EndpointProfile, gguf_path: Path) -> None:
    small = LlamaCppEndpoint("tiny", device_profile, "device", model_path=gguf_path, n_ctx=64)
    with pytest.raises(EndpointError, match="tiny"):
        await small.complete(Request.of("word " * 200, max_tokens=4))


async def test_stream_can_be_abandoned_early(gemma: LlamaCppEndpoint) -> None:
    stream = gemma.stream(Request.of("Write a long story about a dragon.", max_tokens=64))
    async for _chunk in stream:
        break
    await stream.aclose()
    again = await gemma.complete(Request.of(QUESTION, max_tokens=4))
    assert again.usage.output_tokens > 0


def test_missing_model_file_is_reported(device_profile: EndpointProfile, tmp_path: Path) -> None:
    endpoint = LlamaCppEndpoint("x", device_profile, "device", model_path=tmp_path / "absent.gguf")
    with pytest.raises(ModelNotFound, match="absent.gguf"):
        endpoint.load()


def test_missing_adapter_file_is_reported_before_loading(device_profile: EndpointProfile, tmp_path: Path) -> None:
    endpoint = LlamaCppEndpoint("x", device_profile, "device", adapter=tmp_path / "adapter.gguf")
    with pytest.raises(ModelNotFound, match="LoRA adapter .*adapter.gguf does not exist"):
        endpoint.load()


async def test_a_configured_system_turn_reaches_the_model_unless_the_request_brings_one(
        device_profile: EndpointProfile, gguf_path: Path) -> None:
    """The system turn an adapter was trained with is sent with every request that has none."""
    endpoint = LlamaCppEndpoint("s", device_profile, "device", model_path=gguf_path, system="Reply in French.")
    plain = Request(messages=(Message(role="user", content="Say hello."),), max_tokens=4)
    own = Request(messages=(Message(role="system", content="Reply in English."), *plain.messages), max_tokens=4)
    with_system = (await endpoint.complete(plain)).usage.input_tokens
    assert with_system > qa_tokens(endpoint, plain.messages)  # the configured turn was added
    assert (await endpoint.complete(own)).usage.input_tokens == qa_tokens(endpoint, own.messages)  # the request's own wins


def qa_tokens(endpoint: LlamaCppEndpoint, messages: tuple[Message, ...]) -> int:
    return len(endpoint.load().tokenize(qa_transcript(messages).encode("utf-8"), add_bos=True))


async def test_chat_template_path_for_instruct_models(device_profile: EndpointProfile, gguf_path: Path) -> None:
    chat = LlamaCppEndpoint("chat", device_profile, "device", model_path=gguf_path,
                            prompt_format="chat", chat_format="gemma")
    request = Request(messages=(Message(role="user", content="Say hello."),), max_tokens=8)
    completion = await chat.complete(request)
    assert completion.usage.input_tokens > 3 and completion.usage.output_tokens > 0
    assert completion.model == "gemma-3-270m-q4_k_m"  # a model file is named by its file
    streamed = await collect(chat.stream(request))
    assert streamed.usage.input_tokens > 0


async def test_an_amx_build_loads_without_extra_buffers_and_restores_the_defaults(
        gemma: LlamaCppEndpoint, device_profile: EndpointProfile, gguf_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On an AMX build (llama.cpp#20824 crashes there) the model loads with extra buffers off."""
    import llama_cpp.llama_cpp as low

    from tierlink.endpoints import llamacpp_host

    factory = low.llama_model_default_params
    assert gemma.load().model_params.use_extra_bufts is not llamacpp_host.amx_in_build()
    monkeypatch.setattr(llamacpp_host, "amx_in_build", lambda: True)
    endpoint = LlamaCppEndpoint("gemma-safe", device_profile, "device", model_path=gguf_path)
    answer = await endpoint.complete(Request.of("The capital of France is", max_tokens=4))
    assert answer.usage.output_tokens > 0 and answer.text.strip()
    assert endpoint.load().model_params.use_extra_bufts is False
    assert low.llama_model_default_params is factory  # the swap is undone after the load
