"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server, ...) over its HTTP API.

Plain pooled HTTP (httpx), not the `openai` SDK: the SDK's request building costs about 1 ms a
call, which a gateway pays on every request, and its stream reader holds any line an upstream
sends in memory, however long. tierlink retries 429 and 5xx a bounded number of times, honouring
Retry-After, and maps every failure to a typed tierlink error that keeps the upstream message. A
whole-call deadline bounds stalls that trickle bytes; a byte cap bounds what is read; what the
upstream reports is checked (`upstream_checks`) before it is billed or shown.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from tierlink.core.deadline import seconds_left, within_deadline
from tierlink.core.errors import (
    EndpointError,
    EndpointTimeout,
    EndpointUnavailable,
    RateLimited,
)
from tierlink.core.messages import Completion, Request
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.core.usage import Latency, Usage
from tierlink.endpoints.base import Endpoint, StreamChunk
from tierlink.endpoints.openai_wire import (
    StreamState,
    choice_logprobs,
    content_part,
    estimated_usage,
    namespace,
    read_capped,
    token_logprobs,
)
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.sse import sse_data
from tierlink.endpoints.upstream_checks import (
    bounded_text,
    checked_usage,
    encodable,
    output_char_cap,
    response_byte_cap,
)
from tierlink.endpoints.upstream_errors import error_message, status_error

T = TypeVar("T")
_TOP_LOGPROBS = 20


class OpenAICompatEndpoint(Endpoint):
    """A model behind an OpenAI-compatible HTTP API."""

    def __init__(
        self,
        name: str,
        base_url: str,
        model: str,
        profile: EndpointProfile,
        node: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        max_retries: int = 2,
        max_retry_wait_s: float = 30.0,
        first_chunk_timeout_s: float | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.profile = profile
        self.node = node
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.max_retry_wait_s = max_retry_wait_s
        # a stream whose first piece takes longer than this is treated as stalled (None: timeout_s)
        self.first_chunk_timeout_s = min(first_chunk_timeout_s or timeout_s, timeout_s)
        self.base_url = base_url
        self.api_key_env = api_key_env
        # one client per event loop: a connection pool belongs to the loop that opened it, and a
        # CLI or a benchmark may run several loops over one endpoint
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()

    @property
    def _poster(self) -> httpx.AsyncClient:
        """This event loop's pooled HTTP client, with the key from `api_key_env`."""
        loop = asyncio.get_running_loop()
        client = self._loops.get(loop)
        if client is None:
            key = os.environ.get(self.api_key_env) or "no-key"
            client = httpx.AsyncClient(base_url=self.base_url.rstrip("/") + "/", timeout=self.timeout_s,
                                       headers={"Authorization": f"Bearer {key}"},
                                       limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
            self._loops[loop] = client
        return client

    async def aclose(self) -> None:
        """Close this event loop's client (pools are per loop); other loops' clients stay open."""
        client = self._loops.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def _open_stream(self, body: dict[str, Any], byte_cap: int) -> httpx.Response:
        """POST a streaming chat/completions; the response once its headers are in (a typed error if not 2xx)."""
        try:
            response = await self._poster.send(self._poster.build_request("POST", "chat/completions", json=body),
                                               stream=True)
        except httpx.TimeoutException as exc:
            raise EndpointTimeout(self.name, f"no answer within {self.timeout_s:.1f}s") from exc
        except httpx.HTTPError as exc:
            raise EndpointUnavailable(self.name, f"cannot connect: {exc}") from exc
        if response.status_code >= 400:
            try:
                content = await read_capped(response, byte_cap) or b""
            finally:
                await response.aclose()
            failed = httpx.Response(response.status_code, headers=response.headers, content=content)
            raise status_error(self.name, response.status_code, response.headers, error_message(failed))
        return response

    async def _post(self, body: dict[str, Any], byte_cap: int) -> Any:
        """POST chat/completions; the JSON answer, or the same typed errors as the SDK path. A
        body over `byte_cap` bytes is not read further: an answer that big broke `max_tokens`."""
        try:
            async with self._poster.stream("POST", "chat/completions", json=body) as response:
                content = await read_capped(response, byte_cap)
        except httpx.TimeoutException as exc:
            raise EndpointTimeout(self.name, f"no answer within {self.timeout_s:.1f}s") from exc
        except httpx.HTTPError as exc:
            raise EndpointUnavailable(self.name, f"cannot connect: {exc}") from exc
        if content is None:
            raise _accepted(EndpointError(self.name, f"answer larger than {byte_cap} bytes for max_tokens "
                                                     f"{body['max_tokens']}; not read further", status=response.status_code))
        response = httpx.Response(response.status_code, headers=response.headers, content=content)
        if response.status_code >= 400:
            raise status_error(self.name, response.status_code, response.headers, error_message(response))
        try:
            return namespace(response.json())
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
            raise _accepted(EndpointError(self.name, f"malformed chat completion ({type(exc).__name__}): {str(exc)[:200]}",
                                          status=response.status_code)) from exc

    async def complete(self, request: Request) -> Completion:
        """One POST, retried as configured; a malformed answer is an EndpointError, not a crash."""
        started = time.perf_counter()
        response = await self._with_retries(lambda: self._post(self._body(request), response_byte_cap(request)))
        wall = time.perf_counter() - started
        try:  # a malformed answer is the endpoint's failure (fallback, breaker), not a crash
            choice = response.choices[0]
            text = getattr(choice.message, "content", None) or ""
            if not isinstance(text, str):
                raise TypeError(f"message content is a {type(text).__name__}, not text")
            return self._completion(
                request,
                text=text,
                usage=getattr(response, "usage", None),
                latency=Latency(decode_s=wall),
                finish_reason=getattr(choice, "finish_reason", None),
                logprobs=choice_logprobs(getattr(choice, "logprobs", None)),
                notes=("latency not split into prefill/decode (non-streaming call)",),
            )
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            raise _accepted(EndpointError(self.name, f"malformed chat completion: {exc}")) from exc
        except EndpointError as exc:  # malformed usage: the upstream answered, and billed, all the same
            raise _accepted(exc) from None

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """SSE with per-chunk deadlines; usage is estimated (and marked) if the server sends none."""
        started = time.perf_counter()
        body = self._body(request) | {"stream": True, "stream_options": {"include_usage": True}}
        cap = response_byte_cap(request)
        response = await self._with_retries(lambda: self._open_stream(body, cap), self.first_chunk_timeout_s,
                                            waiting_for="first chunk")
        state = StreamState(room=output_char_cap(request))
        chunks = aiter(sse_data(self.name, response, cap))
        try:  # once the upstream has taken the request (HTTP 200), a failure still bills its prompt
            try:
                while not state.full:
                    try:  # per-chunk deadline: no timeout context may span a `yield`
                        left = self._remaining(started)
                        deadline = left if state.parts else min(left, self._first_chunk_left(started))
                        text = state.feed(namespace(await asyncio.wait_for(anext(chunks), deadline)))
                    except StopAsyncIteration:
                        break
                    if text:
                        yield StreamChunk(text=text)
            except TimeoutError as exc:
                if not state.parts:
                    raise EndpointTimeout(self.name, f"no first chunk within {self.first_chunk_timeout_s:.1f}s") from exc
                raise EndpointTimeout(self.name, f"stream exceeded {self.timeout_s:.1f}s") from exc
            except httpx.HTTPError as exc:
                raise EndpointUnavailable(self.name, f"stream broke after {len(state.parts)} chunk(s): {exc}") from exc
            except (ValueError, AttributeError, TypeError) as exc:  # a line that is not a chat chunk
                raise EndpointError(self.name, f"malformed stream chunk after {len(state.parts)} chunk(s): {exc}") from exc
            finally:
                await response.aclose()
            if state.finish_reason is None:
                raise EndpointUnavailable(self.name, f"stream ended after {len(state.parts)} chunk(s) without a finish reason")
        except EndpointError as exc:
            exc.accepted = True
            raise
        yield StreamChunk(completion=self._streamed_completion(request, state, started))

    def _streamed_completion(self, request: Request, state: StreamState, started: float) -> Completion:
        """The Completion of a finished stream; without usage from the server, estimated and marked."""
        ended = time.perf_counter()
        ttft = (state.first_token_at or ended) - started
        text = "".join(state.parts)
        completion = self._completion(
            request,
            text=text,
            usage=state.usage or estimated_usage(request, text, self.profile),
            latency=Latency(prefill_s=ttft, decode_s=ended - started - ttft),
            finish_reason=state.finish_reason,
            logprobs=token_logprobs(state.logprobs) if state.logprobs else None,
            notes=() if state.usage else (f"server sent no usage; tokens estimated at {CHARS_PER_TOKEN} characters per token",),
        )
        if state.usage is None:
            marked = completion.usage.model_copy(update={"origins": frozenset({"live", "simulated"})})
            completion = completion.model_copy(update={"usage": marked})
        return completion

    def _body(self, request: Request) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [m.model_dump() for m in request.messages]
        if request.attachments and messages:  # the chosen parts go with the user's turn, as OpenAI takes them
            messages[-1] = messages[-1] | {"content": [{"type": "text", "text": messages[-1]["content"]},
                                                       *(content_part(a) for a in request.attachments)]}
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if request.logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = _TOP_LOGPROBS
        if request.json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": request.json_schema}}
        return body

    def _completion(
        self,
        request: Request,
        text: str,
        usage: Any,
        latency: Latency,
        finish_reason: str | None,
        logprobs: tuple[tuple[float, ...], tuple[dict[str, float], ...]] | None,
        notes: tuple[str, ...],
    ) -> Completion:
        """The answer as billed and shown: usage checked against the call's bound, text encodable
        and no longer than `max_tokens` allows (a longer one is cut and ends as a length stop)."""
        counts = checked_usage(self.name, request, usage, self.profile)
        text, cleaned = encodable(text)
        text, cut = bounded_text(request, text)
        if cut:
            finish_reason = "length"
            notes = (*notes, f"answer cut to {len(text)} characters: longer than max_tokens {request.max_tokens} allows")
        return Completion(
            text=text,
            endpoint=self.name,
            model=self.model,
            usage=Usage(
                input_tokens=counts.input_tokens,
                output_tokens=counts.output_tokens,
                cached_tokens=counts.cached_tokens,
                latency=latency,
                dollars=self.profile.dollars(counts.input_tokens, counts.output_tokens, counts.cached_tokens),
                origins=frozenset({"live"}),
            ),
            origin="live",
            finish_reason=finish_reason,
            token_logprobs=logprobs[0] if logprobs else None,
            top_logprobs=logprobs[1] if logprobs else None,
            notes=(*notes, *cleaned, *counts.notes),
            usage_capped=counts.capped,
        )

    def _remaining(self, started: float) -> float:
        return within_deadline(max(0.0, self.timeout_s - (time.perf_counter() - started)))

    def _first_chunk_left(self, started: float) -> float:
        return max(0.0, self.first_chunk_timeout_s - (time.perf_counter() - started))

    async def _with_retries(self, call: Callable[[], Awaitable[T]], deadline_s: float | None = None,
                            waiting_for: str = "answer") -> T:
        """Run `call` with a deadline per try (default: the whole-call timeout); retry
        429/5xx/connection errors, bounded, honouring Retry-After."""
        attempt = 0
        while True:
            limit_s = within_deadline(deadline_s or self.timeout_s)  # the request's deadline, if nearer
            try:
                async with asyncio.timeout(limit_s):
                    return await call()
            except TimeoutError as exc:
                raise EndpointTimeout(self.name, f"no {waiting_for} within {limit_s:.1f}s") from exc
            except EndpointTimeout:
                raise
            except EndpointError as exc:  # the HTTP calls raise typed errors themselves
                error = exc
            wait, left = self._retry_wait(error, attempt), seconds_left()
            if wait is None or (left is not None and wait >= left):  # no retry would end before the deadline
                raise error
            attempt += 1
            await asyncio.sleep(wait)

    def _retry_wait(self, error: EndpointError, attempt: int) -> float | None:
        """Seconds to wait before the next try, or None if we should give up."""
        retryable = isinstance(error, (RateLimited, EndpointUnavailable)) or (
            error.status is not None and error.status >= 500
        )
        if not retryable or attempt >= self.max_retries:
            return None
        hinted = error.retry_after if isinstance(error, RateLimited) else None
        if hinted is not None:
            return hinted if hinted <= self.max_retry_wait_s else None
        return min(self.max_retry_wait_s, 0.25 * 2**attempt * (1 + random.random()))


def _accepted(error: EndpointError) -> EndpointError:
    """`error`, marked as coming after the upstream took the request (so its prompt is billed)."""
    error.accepted = True
    return error
