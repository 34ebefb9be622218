"""Usage: what one call consumed, split so that every second and dollar can be explained.

`Usage + Usage` adds field by field (as in Minions), and keeps the set of origins so that live,
replay and simulated figures are never mixed silently.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Origin = Literal["live", "replay", "simulated"]


class Latency(BaseModel):
    """Wall time of a call, split by where it went (seconds)."""

    model_config = ConfigDict(frozen=True)

    network_s: float = 0.0
    queue_s: float = 0.0
    prefill_s: float = 0.0
    decode_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.network_s + self.queue_s + self.prefill_s + self.decode_s

    def __add__(self, other: Latency) -> Latency:
        return Latency(
            network_s=self.network_s + other.network_s,
            queue_s=self.queue_s + other.queue_s,
            prefill_s=self.prefill_s + other.prefill_s,
            decode_s=self.decode_s + other.decode_s,
        )


class Usage(BaseModel):
    """Tokens, bytes, time, money and energy of one or more calls."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    latency: Latency = Field(default_factory=Latency)
    dollars: float = 0.0
    joules: float = 0.0
    origins: frozenset[Origin] = frozenset()

    @property
    def origin_label(self) -> str:
        """'live', 'replay', 'simulated', or e.g. 'live+replay' when a sum mixes them."""
        return "+".join(sorted(self.origins)) if self.origins else "none"

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            bytes_up=self.bytes_up + other.bytes_up,
            bytes_down=self.bytes_down + other.bytes_down,
            latency=self.latency + other.latency,
            dollars=self.dollars + other.dollars,
            joules=self.joules + other.joules,
            origins=self.origins | other.origins,
        )

    def __radd__(self, other: object) -> Usage:
        """Lets `sum(usages)` work (sum starts from 0)."""
        if other == 0:
            return self
        return NotImplemented
