"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server, ...) via the `openai` SDK.

The SDK's own retries are off: tierlink retries 429 and 5xx a bounded number of times,
honouring Retry-After, and maps every failure to a typed tierlink error that keeps the
upstream message. A whole-call deadline bounds stalls that trickle bytes.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar

import httpx
import openai

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
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.upstream_errors import error_message, status_error, upstream_message

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
        # one pair of clients per event loop: a connection pool belongs to the loop that opened
        # it, and a CLI or a benchmark may run several loops over one endpoint
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Clients] = weakref.WeakKeyDictionary()

    def _clients_here(self) -> _Clients:
        loop = asyncio.get_running_loop()
        clients = self._loops.get(loop)
        if clients is None:
            key = os.environ.get(self.api_key_env) or "no-key"
            clients = _Clients(
                sdk=openai.AsyncOpenAI(base_url=self.base_url, api_key=key, timeout=self.timeout_s, max_retries=0),
                http=httpx.AsyncClient(base_url=self.base_url.rstrip("/") + "/", timeout=self.timeout_s,
                                       headers={"Authorization": f"Bearer {key}"},
                                       limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)))
            self._loops[loop] = clients
        return clients

    @property
    def _client(self) -> openai.AsyncOpenAI:
        """The SDK client, for streams."""
        return self._clients_here().sdk

    @property
    def _poster(self) -> httpx.AsyncClient:
        """A plain pooled HTTP client for non-streaming calls: the SDK's request building and
        response models cost about 1 ms per call, which a gateway pays on every request."""
        return self._clients_here().http

    async def aclose(self) -> None:
        """Close this event loop's clients (pools are per loop); other loops' clients stay open."""
        clients = self._loops.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            await clients.sdk.close()
            await clients.http.aclose()

    async def _post(self, body: dict[str, Any]) -> Any:
        """POST chat/completions; the JSON answer, or the same typed errors as the SDK path."""
        try:
            response = await self._poster.post("chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise EndpointTimeout(self.name, f"no answer within {self.timeout_s:.1f}s") from exc
        except httpx.HTTPError as exc:
            raise EndpointUnavailable(self.name, f"cannot connect: {exc}") from exc
        if response.status_code >= 400:
            raise status_error(self.name, response.status_code, response.headers, error_message(response))
        try:
            return _namespace(response.json())
        except ValueError as exc:
            raise EndpointError(self.name, f"malformed chat completion: {exc}", status=response.status_code) from exc

    async def complete(self, request: Request) -> Completion:
        """One POST, retried as configured; a malformed answer is an EndpointError, not a crash."""
        started = time.perf_counter()
        response = await self._with_retries(lambda: self._post(self._body(request)))
        wall = time.perf_counter() - started
        try:  # a malformed answer is the endpoint's failure (fallback, breaker), not a crash
            choice = response.choices[0]
            return self._completion(
                text=getattr(choice.message, "content", None) or "",
                usage=getattr(response, "usage", None),
                latency=Latency(decode_s=wall),
                finish_reason=getattr(choice, "finish_reason", None),
                logprobs=_logprobs(getattr(choice, "logprobs", None)),
                notes=("latency not split into prefill/decode (non-streaming call)",),
            )
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            raise EndpointError(self.name, f"malformed chat completion: {exc}") from exc

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """SSE with per-chunk deadlines; usage is estimated (and marked) if the server sends none."""
        started = time.perf_counter()
        body = self._body(request) | {"stream": True, "stream_options": {"include_usage": True}}
        stream = await self._with_retries(lambda: self._client.chat.completions.create(**body), self.first_chunk_timeout_s,
                                          waiting_for="first chunk")
        parts: list[str] = []
        logprobs: list[Any] = []
        usage = None
        finish_reason = None
        first_token_at: float | None = None
        chunks = aiter(stream)
        try:
            while True:
                try:  # per-chunk deadline: no timeout context may span a `yield`
                    deadline = self._remaining(started) if parts else min(self._remaining(started), self._first_chunk_left(started))
                    chunk = await asyncio.wait_for(anext(chunks), deadline)
                except StopAsyncIteration:
                    break
                usage = chunk.usage or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish_reason = choice.finish_reason or finish_reason
                if choice.logprobs is not None and choice.logprobs.content:
                    logprobs.extend(choice.logprobs.content)
                text = choice.delta.content or ""
                if text:
                    first_token_at = first_token_at or time.perf_counter()
                    parts.append(text)
                    yield StreamChunk(text=text)
        except TimeoutError as exc:
            if not parts:
                raise EndpointTimeout(self.name, f"no first chunk within {self.first_chunk_timeout_s:.1f}s") from exc
            raise EndpointTimeout(self.name, f"stream exceeded {self.timeout_s:.1f}s") from exc
        except (openai.APIError, httpx.HTTPError) as exc:
            raise EndpointUnavailable(
                self.name, f"stream broke after {len(parts)} chunk(s): {exc}"
            ) from exc
        finally:
            await stream.close()
        if finish_reason is None:
            raise EndpointUnavailable(
                self.name, f"stream ended after {len(parts)} chunk(s) without a finish reason"
            )
        ended = time.perf_counter()
        ttft = (first_token_at or ended) - started
        text = "".join(parts)
        completion = self._completion(
            text=text,
            usage=usage or _estimated_usage(request, text),
            latency=Latency(prefill_s=ttft, decode_s=ended - started - ttft),
            finish_reason=finish_reason,
            logprobs=_token_logprobs(logprobs) if logprobs else None,
            notes=() if usage else (f"server sent no usage; tokens estimated at {CHARS_PER_TOKEN} characters per token",),
        )
        if usage is None:
            marked = completion.usage.model_copy(update={"origins": frozenset({"live", "simulated"})})
            completion = completion.model_copy(update={"usage": marked})
        yield StreamChunk(completion=completion)

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in request.messages],
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
        text: str,
        usage: Any,
        latency: Latency,
        finish_reason: str | None,
        logprobs: tuple[tuple[float, ...], tuple[dict[str, float], ...]] | None,
        notes: tuple[str, ...],
    ) -> Completion:
        input_tokens = getattr(usage, "prompt_tokens", 0) or 0
        output_tokens = getattr(usage, "completion_tokens", 0) or 0
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) or 0
        return Completion(
            text=text,
            endpoint=self.name,
            model=self.model,
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_tokens=cached,
                latency=latency,
                dollars=self.profile.dollars(input_tokens, output_tokens, cached),
                origins=frozenset({"live"}),
            ),
            origin="live",
            finish_reason=finish_reason,
            token_logprobs=logprobs[0] if logprobs else None,
            top_logprobs=logprobs[1] if logprobs else None,
            notes=notes,
        )

    def _remaining(self, started: float) -> float:
        return max(0.0, self.timeout_s - (time.perf_counter() - started))

    def _first_chunk_left(self, started: float) -> float:
        return max(0.0, self.first_chunk_timeout_s - (time.perf_counter() - started))

    async def _with_retries(self, call: Callable[[], Awaitable[T]], deadline_s: float | None = None,
                            waiting_for: str = "answer") -> T:
        """Run `call` with a deadline per try (default: the whole-call timeout); retry
        429/5xx/connection errors, bounded, honouring Retry-After."""
        attempt = 0
        deadline_s = deadline_s or self.timeout_s
        while True:
            try:
                async with asyncio.timeout(deadline_s):
                    return await call()
            except (TimeoutError, openai.APITimeoutError) as exc:
                raise EndpointTimeout(self.name, f"no {waiting_for} within {deadline_s:.1f}s") from exc
            except openai.APIStatusError as exc:
                error = status_error(self.name, exc.status_code, exc.response.headers, upstream_message(exc))
            except openai.APIConnectionError as exc:
                error = EndpointUnavailable(self.name, f"cannot connect: {exc.__cause__ or exc}")
            except EndpointTimeout:
                raise
            except EndpointError as exc:  # the plain-HTTP path raises typed errors itself
                error = exc
            wait = self._retry_wait(error, attempt)
            if wait is None:
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


@dataclass(frozen=True)
class _Clients:
    """The two clients of one event loop, sharing the endpoint's URL, key and timeout."""

    sdk: openai.AsyncOpenAI
    http: httpx.AsyncClient


def _namespace(value: Any) -> Any:
    """JSON objects as attribute namespaces (the shape the SDK's models have)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def _estimated_usage(request: Request, text: str) -> SimpleNamespace:
    """Token counts when a server streams no usage: ~4 characters per token (marked simulated)."""
    prompt_chars = sum(len(m.content) for m in request.messages)
    return SimpleNamespace(
        prompt_tokens=max(1, prompt_chars // CHARS_PER_TOKEN),
        completion_tokens=max(1, len(text) // CHARS_PER_TOKEN) if text else 0,
        prompt_tokens_details=None,
    )


def _logprobs(
    choice_logprobs: Any,
) -> tuple[tuple[float, ...], tuple[dict[str, float], ...]] | None:
    content = getattr(choice_logprobs, "content", None)
    return _token_logprobs(content) if content else None


def _token_logprobs(content: list[Any]) -> tuple[tuple[float, ...], tuple[dict[str, float], ...]]:
    chosen = tuple(float(item.logprob) for item in content)
    tops = tuple(
        {alt.token: float(alt.logprob) for alt in (item.top_logprobs or [])} for item in content
    )
    return chosen, tops
