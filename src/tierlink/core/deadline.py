"""A wall-clock deadline for one request, carried by the task's context: the gateway sets it
once, and every wait below (a queue for an endpoint's slot, an HTTP call) stops at it instead of
at its own, longer timeout. No deadline set: waits keep their own timeouts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("tierlink_deadline", default=None)


@contextlib.contextmanager
def deadline_in(seconds: float | None) -> Iterator[None]:
    """Within the block (and tasks started from it), work must end `seconds` from now; None: no deadline."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def seconds_left() -> float | None:
    """Seconds to the current deadline (0 once passed), or None when none is set."""
    deadline = _DEADLINE.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def within_deadline(timeout_s: float) -> float:
    """`timeout_s`, shortened to the current deadline if one is nearer."""
    left = seconds_left()
    return timeout_s if left is None else min(timeout_s, left)
