"""Clocks: live mode really waits; simulated mode advances virtual time instantly.

Both share one interface so that the same link code produces the same totals in either mode.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Time source and sleeper used by links."""

    simulated: bool

    def now(self) -> float:
        """Seconds since the clock started."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        ...


class RealClock:
    """Wall-clock time; `sleep` really waits."""

    simulated = False

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        """Wall seconds since this clock was made (monotonic, so never backwards)."""
        return time.monotonic() - self._start

    async def sleep(self, seconds: float) -> None:
        """Really wait `seconds` (a negative wait is none)."""
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Simulated time; `sleep` advances the clock without waiting."""

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        """The virtual time: it moves only through `sleep` and `advance`."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Advance virtual time by `seconds` at once, so simulated runs take no wall time."""
        self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward without awaiting (a negative step is none), e.g. in tests."""
        self._now += max(0.0, seconds)
