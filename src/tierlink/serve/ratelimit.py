"""Requests per minute per API key: a token bucket that refills continuously.

In memory (a restart refills every bucket, which errs on the side of the client); the bucket
holds one minute's worth, so a quiet key may burst up to its limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`take(key, per_minute)` -> 0 if allowed, else the seconds until a request would be."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, per_minute: int | None) -> float:
        """Spend one request from `key`'s bucket: 0 if allowed, else the seconds to wait (no limit: 0)."""
        if per_minute is None:
            return 0.0
        now = self.clock()
        rate = per_minute / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(float(per_minute), now))
        bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate
