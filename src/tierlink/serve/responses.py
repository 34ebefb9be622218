"""What the gateway sends back, in OpenAI's shapes: the chat completion, the SSE chunks of a
buffered or a live stream, the headers that say who answered, and the request headers it reads."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tierlink.serve.errors import ApiError, api_error
from tierlink.serve.gateway import SESSION_HEADER, ChatOutcome
from tierlink.serve.refusals import BadRequest, Refusal

log = logging.getLogger("tierlink.serve")


def usage_of(outcome: ChatOutcome) -> dict[str, Any]:
    """OpenAI's usage object for the answered turn."""
    usage = outcome.result.usage
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens}}


def _tierlink(outcome: ChatOutcome) -> dict[str, Any]:
    """Which endpoint answered, why, and what it cost (the extra field of every response)."""
    result = outcome.result
    usage = result.usage
    return {
        "endpoint": result.endpoint, "reason": result.reason, "fallback": result.fallback, "used_draft": result.used_draft,
        "request_id": outcome.request_id, "session": outcome.session_id,
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                  "cached_tokens": usage.cached_tokens, "dollars": usage.dollars,
                  "latency_s": usage.latency.model_dump() | {"total_s": usage.latency.total_s},
                  "origin": usage.origin_label},
        "budget_left": {"session_dollars": outcome.session_dollars_left, "key_dollars": outcome.key_dollars_left},
    }


def _finish_reason(outcome: ChatOutcome) -> str:
    completion = outcome.result.completion
    reason = completion.finish_reason if completion is not None else None
    return "length" if reason == "length" else "stop"


def completion_body(outcome: ChatOutcome) -> dict[str, Any]:
    """The chat.completion JSON of an answered turn, with the tierlink field."""
    return {
        "id": f"chatcmpl-{outcome.request_id}", "object": "chat.completion", "created": outcome.created,
        "model": outcome.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": outcome.result.answer},
                     "finish_reason": _finish_reason(outcome), "logprobs": None}],
        "usage": usage_of(outcome),
        "tierlink": _tierlink(outcome),
    }


DONE = "data: [DONE]\n\n"


@dataclass(frozen=True)
class Chunks:
    """The SSE events of one streamed answer, shared by the buffered and the live stream."""

    chunk_id: str
    created: int
    model: str

    def event(self, payload: dict[str, Any]) -> str:
        """One SSE `data:` event: `payload` inside the chunk envelope (id, created, model)."""
        base = {"id": self.chunk_id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}
        return f"data: {json.dumps(base | payload)}\n\n"

    def role(self) -> str:
        """The opening chunk OpenAI clients expect: the assistant role, empty content."""
        return self.event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})

    def content(self, text: str) -> str:
        """A chunk carrying one piece of the answer's text."""
        return self.event({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})

    def ending(self, outcome: ChatOutcome, include_usage: bool) -> Iterator[str]:
        """The finish chunk (with the tierlink field), then the usage chunk if asked for."""
        yield self.event({"choices": [{"index": 0, "delta": {}, "finish_reason": _finish_reason(outcome)}],
                          "tierlink": _tierlink(outcome)})
        if include_usage:
            yield self.event({"choices": [], "usage": usage_of(outcome)})


async def buffered_sse(outcome: ChatOutcome, include_usage: bool) -> AsyncIterator[str]:
    """A finished answer as one SSE stream: role, content, finish (and usage), done."""
    chunks = Chunks(f"chatcmpl-{outcome.request_id}", outcome.created, outcome.model)
    yield chunks.role()
    if outcome.result.answer:
        yield chunks.content(outcome.result.answer)
    for event in chunks.ending(outcome, include_usage):
        yield event
    yield DONE


async def live_sse(chunks: Chunks, first: str, pieces: asyncio.Queue[str], turn: asyncio.Task[ChatOutcome],
                    include_usage: bool, finished: Callable[[int], None]) -> AsyncIterator[str]:
    """Forward pieces as they arrive; end with the finish (and usage) chunks, or an error event
    if the answer broke off. The turn is never cancelled here: if the client leaves, it still
    finishes and its spend is recorded."""
    status = 500
    try:
        yield chunks.role()
        yield chunks.content(first)
        while not (turn.done() and pieces.empty()):
            getter = asyncio.ensure_future(pieces.get())
            await asyncio.wait({getter, turn}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield chunks.content(getter.result())
            else:
                getter.cancel()
        try:
            outcome = turn.result()
        except Refusal as exc:
            error = api_error(exc)
            status = error.status
            yield f"data: {json.dumps(error.body())}\n\n"
        except Exception as exc:
            log.exception("unexpected error in a streamed turn")
            yield f"data: {json.dumps(ApiError(500, f'internal error ({type(exc).__name__})', 'server_error').body())}\n\n"
        else:
            status = 200
            for event in chunks.ending(outcome, include_usage):
                yield event
        yield DONE
    finally:
        finished(status)


def response_headers(outcome: ChatOutcome) -> dict[str, str]:
    """Who answered, why, what it cost, and the request and session ids."""
    result = outcome.result
    headers = {"X-Tierlink-Endpoint": header_safe(result.endpoint or ""), "X-Tierlink-Reason": header_safe(result.reason, 300),
               "X-Request-Id": outcome.request_id, "X-Tierlink-Dollars": f"{result.usage.dollars:.8f}"}
    if outcome.session_id:
        headers[SESSION_HEADER] = header_safe(outcome.session_id, 200)
    return headers


def private_flag(header: str | None) -> bool:
    """`X-Tierlink-Private`: true/1/yes keeps the turn in the device's privacy zones; 400 if unreadable."""
    if header is None or header.strip().lower() in ("false", "0", "no", ""):
        return False
    if header.strip().lower() in ("true", "1", "yes"):
        return True
    raise BadRequest(f"X-Tierlink-Private must be true or false, not {header[:20]!r}", "X-Tierlink-Private")


def live_headers(request_id: str, session_id: str | None) -> dict[str, str]:
    """What is known when a live stream starts: the request and the session (who answers and
    what it cost come in the final chunk's `tierlink` field)."""
    headers = {"X-Request-Id": request_id}
    if session_id:
        headers[SESSION_HEADER] = header_safe(session_id, 200)
    return headers


def header_safe(text: str, limit: int = 200) -> str:
    """Printable ASCII only: an upstream's CRLF-laden error page must not break the response."""
    return "".join(c if " " <= c <= "~" else " " for c in text)[:limit]
