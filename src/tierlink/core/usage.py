"""Usage: what one call consumed, split so that every second and dollar can be explained.

`Usage + Usage` adds field by field (as in Minions), and keeps the set of origins so that live,
replay and simulated figures are never mixed silently.
"""

from __future__ import annotations

from typing import Any, Literal

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
        """The call's wall time end to end: network, queue, prefill and decode together."""
        return self.network_s + self.queue_s + self.prefill_s + self.decode_s

    def __add__(self, other: Latency) -> Latency:
        return Latency(**_fieldwise_sum(self, other))


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
        return Usage(**_fieldwise_sum(self, other, union={"origins"}))

    def __radd__(self, other: object) -> Usage:
        """Lets `sum(usages)` work (sum starts from 0)."""
        if other == 0:
            return self
        return NotImplemented


def _fieldwise_sum(a: BaseModel, b: BaseModel, union: set[str] | None = None) -> dict[str, Any]:
    """Every field of a and b added (`+`), or joined (`|`) for the set-valued ones in `union`."""
    joined = union or set()
    return {
        name: getattr(a, name) | getattr(b, name) if name in joined else getattr(a, name) + getattr(b, name)
        for name in type(a).model_fields
    }
