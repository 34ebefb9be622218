"""A link between two nodes and the time it takes to move bytes over it.

Transfer-time model (one request or response):
    t = RTT / 2 + (8 * bytes / bandwidth) / (1 - loss) + loss * packets * RTT
The first term is one-way propagation (a request plus its response costs one RTT), the second
the serialization time inflated
by retransmitted packets, the third the recovery delay (about one RTT per lost packet, as
with TCP fast retransmit). It is an approximation good for planning, not a TCP simulator.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.network.availability import AvailabilityTrace
from tierlink.network.link_profile import LinkProfile

MSS_BYTES = 1460
Direction = Literal["up", "down"]


class Link(BaseModel):
    """A link from node `a` (usually the device) to node `b`; 'up' means a -> b."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    a: str
    b: str
    up_mbps: float = Field(gt=0)
    down_mbps: float = Field(gt=0)
    rtt_ms: float = Field(ge=0)
    loss: float = Field(0.0, ge=0, lt=1)
    availability: AvailabilityTrace = Field(default_factory=AvailabilityTrace)

    @classmethod
    def from_profile(
        cls,
        name: str,
        a: str,
        b: str,
        profile: LinkProfile,
        availability: AvailabilityTrace | None = None,
    ) -> Link:
        """A link with a profile's figures; the 'offline' profile yields an always-down link."""
        trace = availability or AvailabilityTrace()
        if not profile.available:
            trace = AvailabilityTrace.always_down()
        return cls(
            name=name,
            a=a,
            b=b,
            up_mbps=max(profile.up_mbps, 1e-9),
            down_mbps=max(profile.down_mbps, 1e-9),
            rtt_ms=profile.rtt_ms,
            loss=profile.loss,
            availability=trace,
        )

    def transfer_seconds(self, n_bytes: int, direction: Direction) -> float:
        """Modelled time to move `n_bytes` one way (propagation, serialization, loss recovery)."""
        mbps = self.up_mbps if direction == "up" else self.down_mbps
        rtt = self.rtt_ms / 1000.0
        serialization = 8.0 * n_bytes / (mbps * 1e6)
        packets = max(1, math.ceil(n_bytes / MSS_BYTES))
        return rtt / 2 + serialization / (1.0 - self.loss) + self.loss * packets * rtt

    def is_up(self, t: float) -> bool:
        """True while the link carries traffic at time t (outages are half-open intervals)."""
        return self.availability.is_up(t)
