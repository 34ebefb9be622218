"""A GGUF model run in-process by llama-cpp-python: the device tier's endpoint.

Token counts come from llama.cpp's tokenizer and usage; prefill time and prefix reuse from
llama.cpp's perf counters; log-probabilities and entropies from a logits processor. The model
loads lazily on first use (in a worker thread) so listing endpoints stays instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierlink.core.errors import ConfigError, EndpointError, ModelNotFound
from tierlink.core.messages import Completion, Message, Request
from tierlink.core.usage import Latency, Origin, Usage
from tierlink.endpoints.base import Endpoint, StreamChunk
from tierlink.endpoints.llamacpp_host import safe_weight_buffers
from tierlink.endpoints.logprob_recorder import LogprobRecorder
from tierlink.endpoints.model_catalogue import DEFAULT_MODEL, PromptFormat, model_catalogue
from tierlink.endpoints.model_files import gguf_path
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.prompt_format import QA_STOPS, qa_transcript


@dataclass(frozen=True)
class _Perf:
    prefill_s: float
    prompt_tokens_evaluated: int


def default_threads() -> int:
    """llama.cpp threads when none are configured: one per two cores (benchmarks/README.md,
    threads_under_load.py: at 2 threads on 2 shared cores decode collapsed under any other load)."""
    return max(1, (os.cpu_count() or 1) // 2)


class LlamaCppEndpoint(Endpoint):
    """A local GGUF model. Base models use a Question/Answer transcript; chat models a template.

    `model` names a catalogue entry (`tierlink models`); `model_path` a GGUF file of your own."""

    def __init__(
        self,
        name: str,
        profile: EndpointProfile,
        node: str,
        model_path: Path | None = None,
        prompt_format: PromptFormat | None = None,
        chat_format: str | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        model: str | None = None,
        adapter: Path | None = None,
        system: str | None = None,
    ) -> None:
        self.name = name
        self.profile = profile
        self.node = node
        if model is not None and model_path is not None:
            raise ConfigError("model", "both a catalogue model and a model file are given", "give one of them")
        self.model_path = model_path
        self.catalogue_model = None if model_path else model_catalogue().require(model or DEFAULT_MODEL, "model")
        self.model_id = model_path.stem if model_path else self.catalogue_model.name  # type: ignore[union-attr]
        default_format = self.catalogue_model.prompt_format if self.catalogue_model else "completion"
        self.prompt_format: PromptFormat = prompt_format or default_format
        self.chat_format = chat_format
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.seed = seed
        self.adapter = adapter  # a LoRA adapter GGUF (e.g. from `tierlink route self-train`) applied at load
        self.system = system  # a system turn for requests that bring none (what an adapter was trained with)
        self._llm: Any = None
        # one asyncio lock per event loop (an asyncio.Lock binds to the loop that first waits on
        # it; a CLI or a test suite runs several loops over one endpoint)
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._load_lock = threading.Lock()
        self._model_lock = threading.Lock()  # llama.cpp contexts are not thread-safe across loops

    def __getstate__(self) -> dict[str, Any]:
        """What another process needs to run this endpoint (a Ray actor): settings, not the loaded
        model or this process's locks; the model loads there on first use."""
        state = dict(self.__dict__)
        for name in ("_llm", "_locks", "_load_lock", "_model_lock"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._llm = None
        self._locks = weakref.WeakKeyDictionary()
        self._load_lock, self._model_lock = threading.Lock(), threading.Lock()

    async def warm(self) -> None:
        """Load the model in a thread, so a server is ready before its first request."""
        await asyncio.to_thread(self.load)

    def load(self) -> Any:
        """Load the model now (blocking); later calls reuse it."""
        with self._load_lock:
            if self._llm is None:
                import llama_cpp  # heavy import, deferred until a model is needed

                path = self.model_path or gguf_path(self.catalogue_model)  # type: ignore[arg-type]
                if not path.is_file():
                    raise ModelNotFound(f"GGUF file {path} does not exist")
                if self.adapter is not None and not self.adapter.is_file():
                    raise ModelNotFound(f"LoRA adapter {self.adapter} does not exist")
                try:
                    with safe_weight_buffers(), _quiet_stderr():  # llama.cpp prints a benign SWA-cache notice
                        self._llm = llama_cpp.Llama(
                            model_path=str(path),
                            n_ctx=self.n_ctx,
                            n_threads=self.n_threads,
                            seed=self.seed,
                            chat_format=self.chat_format,
                            lora_path=str(self.adapter) if self.adapter is not None else None,
                            verbose=False,
                        )
                except ValueError as exc:
                    raise ModelNotFound(f"llama.cpp could not load {path}: {exc}") from exc
            return self._llm

    def _lock(self) -> asyncio.Lock:
        """This loop's lock: one call at a time per model within a loop."""
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    async def complete(self, request: Request) -> Completion:
        """Generate in a worker thread, one call per loop at a time; the wait is reported as queue_s."""
        queued = time.perf_counter()
        async with self._lock():
            waited = time.perf_counter() - queued
            return await asyncio.to_thread(self._complete_blocking, request, waited)

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """Tokens from a worker thread as they decode; leaving early stops generation and joins it."""
        queued = time.perf_counter()
        async with self._lock():
            waited = time.perf_counter() - queued
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[StreamChunk | BaseException] = asyncio.Queue()
            stop = threading.Event()

            def produce() -> None:
                try:
                    with self._model_lock:
                        for chunk in self._stream_blocking(request, waited, stop):
                            loop.call_soon_threadsafe(queue.put_nowait, chunk)
                except Exception as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
                    loop.call_soon_threadsafe(queue.put_nowait, exc)

            worker = asyncio.create_task(asyncio.to_thread(produce))
            try:
                while True:
                    item = await queue.get()
                    if isinstance(item, BaseException):
                        raise item
                    yield item
                    if item.completion is not None:
                        break
            finally:
                stop.set()
                await worker

    def _complete_blocking(self, request: Request, waited: float) -> Completion:
        with self._model_lock:
            chunks = list(self._stream_blocking(request, waited, threading.Event(), stream=False))
        final = chunks[-1].completion
        assert final is not None
        return final

    def _stream_blocking(
        self, request: Request, waited: float, stop: threading.Event, stream: bool = True
    ) -> Iterator[StreamChunk]:
        import llama_cpp

        llm = self.load()
        recorder = LogprobRecorder(greedy=request.temperature == 0) if request.logprobs else None
        llama_cpp.llama_perf_context_reset(llm.ctx)
        started = time.perf_counter()
        result, input_tokens = self._start(llm, request, self._generation_options(request, recorder, stream))
        if stream:
            parts: list[str] = []
            finish_reason = None
            for chunk in result:
                choice = chunk["choices"][0]
                text = choice.get("text") or (choice.get("delta") or {}).get("content") or ""
                finish_reason = choice.get("finish_reason") or finish_reason
                if text:
                    parts.append(text)
                    yield StreamChunk(text=text)
                if stop.is_set():
                    finish_reason = "cancelled"
                    break
            text = "".join(parts)
            # llama-cpp-python's stream carries no usage: count the streamed text's tokens
            # (the stop sequence, which is not streamed, is therefore not counted).
            output_tokens = len(llm.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
            if input_tokens is None:
                chat_prompt = "\n".join(m.content for m in request.messages)
                input_tokens = len(llm.tokenize(chat_prompt.encode("utf-8"), add_bos=True))
        else:
            choice = result["choices"][0]
            text = choice.get("text") if "text" in choice else choice["message"]["content"] or ""
            finish_reason = choice.get("finish_reason")
            input_tokens = result["usage"]["prompt_tokens"]
            output_tokens = result["usage"]["completion_tokens"]
        wall = time.perf_counter() - started
        perf = self._perf(llm)
        if recorder is not None:
            recorder.finish()
        yield StreamChunk(
            completion=self._completion(
                text, finish_reason, input_tokens, output_tokens, waited, wall, perf, recorder
            )
        )

    def _generation_options(self, request: Request, recorder: LogprobRecorder | None, stream: bool) -> dict[str, Any]:
        """llama.cpp's sampling options for this request (log-prob recorder, JSON grammar)."""
        import llama_cpp

        options: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "repeat_penalty": 1.0,
            "seed": self.seed if request.seed is None else request.seed,
            "stream": stream,
        }
        if recorder is not None:
            options["logits_processor"] = llama_cpp.LogitsProcessorList([recorder])
        if request.json_schema is not None:
            options["grammar"] = self._grammar(json.dumps(request.json_schema, sort_keys=True))
        return options

    def _start(self, llm: Any, request: Request, options: dict[str, Any]) -> tuple[Any, int | None]:
        """Begin generating (chat template or Q/A transcript); the prompt's token count when known."""
        turns = request.messages
        if self.system is not None and not any(m.role == "system" for m in turns):
            turns = (Message(role="system", content=self.system), *turns)
        try:
            if self.prompt_format == "chat":
                messages = [m.model_dump() for m in turns]
                return llm.create_chat_completion(messages=messages, stop=list(request.stop) or None, **options), None
            prompt = qa_transcript(turns)
            input_tokens = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True))
            return llm.create_completion(prompt=prompt, stop=list(request.stop or QA_STOPS), **options), input_tokens
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise EndpointError(self.name, str(exc)) from exc

    @functools.lru_cache(maxsize=16)  # noqa: B019 - a handful of schemas per endpoint, kept for its life
    def _grammar(self, schema: str) -> Any:
        """A llama.cpp grammar that only admits JSON matching `schema` (built once per schema)."""
        import llama_cpp

        with _quiet_stderr():
            return llama_cpp.LlamaGrammar.from_json_schema(schema, verbose=False)

    def _perf(self, llm: Any) -> _Perf:
        import llama_cpp

        data = llama_cpp.llama_perf_context(llm.ctx)
        return _Perf(prefill_s=data.t_p_eval_ms / 1000.0, prompt_tokens_evaluated=data.n_p_eval)

    def _completion(
        self,
        text: str,
        finish_reason: str | None,
        input_tokens: int,
        output_tokens: int,
        waited: float,
        wall: float,
        perf: _Perf,
        recorder: LogprobRecorder | None,
    ) -> Completion:
        prefill = min(perf.prefill_s, wall)
        cached = max(0, input_tokens - perf.prompt_tokens_evaluated)
        joules = self.profile.power_w * wall
        origins: set[Origin] = {"live"}
        if joules > 0:
            origins.add("simulated")  # energy = profile power x measured time
        return Completion(
            text=text.strip(),
            endpoint=self.name,
            model=self.model_id,
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_tokens=cached,
                latency=Latency(queue_s=waited, prefill_s=prefill, decode_s=wall - prefill),
                joules=joules,
                origins=frozenset(origins),
            ),
            origin="live",
            finish_reason=finish_reason,
            token_logprobs=recorder.token_logprobs() if recorder else None,
            top_logprobs=self._top_tokens(recorder) if recorder else None,
            token_entropies=recorder.entropies() if recorder else None,
        )

    def _top_tokens(self, recorder: LogprobRecorder) -> tuple[dict[str, float], ...]:
        llm = self._llm
        return tuple(
            {
                llm.detokenize([token]).decode("utf-8", errors="replace"): logprob
                for token, logprob in step.top.items()
            }
            for step in recorder.steps
        )


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C-level prints) for the duration; errors still raise."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
