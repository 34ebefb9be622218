"""Admission control for one endpoint: at most `max_concurrency` calls at once and `max_queue`
waiting; one more is turned away at once (EndpointBusy, with a Retry-After estimate), and a wait
ends at the request's deadline. An in-process model answers one call at a time, so without this
24 concurrent requests queue behind it for minutes while the caller's cap said 30 s.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator

from tierlink.core.deadline import seconds_left
from tierlink.core.errors import EndpointBusy
from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint

DEFAULT_CALL_S = 1.0  # the Retry-After estimate before any call has finished


class AdmissionEndpoint(WrappedEndpoint):
    """`inner` behind a bounded queue of bounded concurrency."""

    def __init__(self, inner: Endpoint, max_concurrency: int, max_queue: int) -> None:
        super().__init__(inner)
        if max_concurrency < 1 or max_queue < 0:
            raise ValueError("max_concurrency must be >= 1 and max_queue >= 0")
        self.max_concurrency, self.max_queue = max_concurrency, max_queue
        self.running = self.waiting = 0
        self.turned_away = 0
        self._mean_call_s = DEFAULT_CALL_S
        # one semaphore per event loop: an asyncio primitive belongs to the loop that waits on it
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def available(self) -> bool:
        """False while the queue is full, so policies route around the endpoint."""
        return not self._full() and self.inner.available()

    def _full(self) -> bool:
        return self.running >= self.max_concurrency and self.waiting >= self.max_queue

    def retry_after_s(self) -> float:
        """When a slot should be free, from the mean time of the calls so far."""
        return self._mean_call_s * (1 + self.waiting / self.max_concurrency)

    def _semaphore(self) -> asyncio.Semaphore:
        return self._slots.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(self.max_concurrency))

    async def _enter(self) -> None:
        """Take a slot, waiting in the queue at most until the request's deadline."""
        if self._full():
            self.turned_away += 1
            raise EndpointBusy(self.name, f"{self.running} call(s) running and {self.waiting} waiting (the most "
                                          f"allowed); retry in about {self.retry_after_s():.1f}s", self.retry_after_s())
        self.waiting += 1
        try:
            async with asyncio.timeout(seconds_left()):
                await self._semaphore().acquire()
        except TimeoutError as exc:
            self.turned_away += 1
            raise EndpointBusy(self.name, "no slot free before the request's deadline", self.retry_after_s()) from exc
        finally:
            self.waiting -= 1
        self.running += 1

    def _leave(self, started: float) -> None:
        self.running -= 1
        self._mean_call_s = 0.8 * self._mean_call_s + 0.2 * (time.monotonic() - started)
        self._semaphore().release()

    async def complete(self, request: Request) -> Completion:
        """The inner call, once a slot is ours."""
        await self._enter()
        started = time.monotonic()
        try:
            return await self.inner.complete(request)
        finally:
            self._leave(started)

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The inner stream, holding the slot until it ends."""
        await self._enter()
        started = time.monotonic()
        try:
            async for chunk in self.inner.stream(request):
                yield chunk
        finally:
            self._leave(started)
