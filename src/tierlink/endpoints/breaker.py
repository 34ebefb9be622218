"""A circuit breaker per endpoint: stop calling an endpoint that keeps failing, probe it later.

Closed: calls go through; `failures_to_open` consecutive failures open it. Open: calls fail at
once (no waiting on a dead upstream) and the session sees the endpoint as unavailable, so
policies route around it. After `reset_after_s` one probe call is let through (half-open): its
success closes the breaker, its failure opens it again. An answer whose usage had to be capped
(the upstream reported more tokens than the call could use) counts as a failure. Client errors (4xx other than 429) say
nothing about the endpoint's health and do not count.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

from tierlink.core.errors import EndpointBusy, EndpointError, EndpointUnavailable, TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint

BreakerState = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Consecutive-failure breaker with a single half-open probe."""

    def __init__(self, failures_to_open: int = 3, reset_after_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures_to_open < 1 or reset_after_s < 0:
            raise ValueError("failures_to_open must be >= 1 and reset_after_s >= 0")
        self.failures_to_open = failures_to_open
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probe_in_flight = False
        self.opened_count = 0

    @property
    def state(self) -> BreakerState:
        """closed; open; or half-open once `reset_after_s` has passed since it opened (read live)."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_after_s else "open"

    def available(self) -> bool:
        """Would a call be let through now (without taking the probe slot)?"""
        state = self.state
        return state == "closed" or (state == "half-open" and not self.probe_in_flight)

    def acquire(self) -> bool:
        """Take permission for one call; in half-open only one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self.probe_in_flight:
            self.probe_in_flight = True
            return True
        return False

    def succeeded(self) -> None:
        """A call succeeded: close the breaker and forget earlier failures."""
        self.failures, self.opened_at, self.probe_in_flight = 0, None, False

    def failed(self) -> None:
        """A call failed: count it, and open (or reopen after a failed probe) at the threshold."""
        self.failures += 1
        if self.probe_in_flight or self.failures >= self.failures_to_open:
            if self.opened_at is None or self.probe_in_flight:
                self.opened_count += 1
            self.opened_at = self.clock()
        self.probe_in_flight = False

    def released(self) -> None:
        """A call ended without a verdict (cancelled): free the probe slot."""
        self.probe_in_flight = False

    def retry_in_s(self) -> float:
        """Seconds until the next probe is let through (0 when closed), for error messages."""
        return 0.0 if self.opened_at is None else max(0.0, self.reset_after_s - (self.clock() - self.opened_at))


def counts_against(error: TierlinkError) -> bool:
    """Does this failure say the endpoint is unhealthy (not that the request was bad, or that
    its queue was full)?"""
    if isinstance(error, EndpointBusy):
        return False
    if isinstance(error, EndpointError) and error.status is not None:
        return error.status >= 500 or error.status == 429
    return True


class BreakerEndpoint(WrappedEndpoint):
    """`inner` behind a circuit breaker; an open breaker fails fast with EndpointUnavailable."""

    def __init__(self, inner: Endpoint, breaker: CircuitBreaker | None = None) -> None:
        super().__init__(inner)
        self.breaker = breaker or CircuitBreaker()

    def available(self) -> bool:
        """False while the breaker is open (or its probe is out), so sessions route around it."""
        return self.breaker.available() and self.inner.available()

    def _refuse(self) -> EndpointUnavailable:
        return EndpointUnavailable(self.name, f"circuit open after {self.breaker.failures} consecutive failure(s); "
                                              f"next probe in {self.breaker.retry_in_s():.1f}s")

    async def complete(self, request: Request) -> Completion:
        """Fail fast when open; else call through and let the outcome close or open the breaker."""
        if not self.breaker.acquire():
            raise self._refuse()
        try:
            completion = await self.inner.complete(request)
        except TierlinkError as exc:
            self._judge(exc)
            raise
        except BaseException:
            self.breaker.released()
            raise
        self._judge_answer(completion)
        return completion

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """As `complete`, judged at the end: the final chunk is a success; a cancel frees the probe."""
        if not self.breaker.acquire():
            raise self._refuse()
        verdict = False
        try:
            async for chunk in self.inner.stream(request):
                if chunk.completion is not None:
                    self._judge_answer(chunk.completion)
                    verdict = True
                yield chunk
        except TierlinkError as exc:
            self._judge(exc)
            verdict = True
            raise
        finally:
            if not verdict:
                self.breaker.released()

    def _judge_answer(self, completion: Completion) -> None:
        """An answer closes the breaker, unless its upstream over-reported usage (a lie counts)."""
        if completion.usage_capped:
            self.breaker.failed()
        else:
            self.breaker.succeeded()

    def _judge(self, error: TierlinkError) -> None:
        if counts_against(error):
            self.breaker.failed()
        else:
            self.breaker.released()

