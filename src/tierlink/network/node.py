"""A node: a place where an endpoint runs (a phone, a robot, an edge box, a cloud region)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tierlink.endpoints.profile import Tier


class Node(BaseModel):
    """Where a model runs, and which privacy zone data on it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    tier: Tier
    zone: str = Field("", description="Privacy zone; defaults to the tier name.")

    @property
    def privacy_zone(self) -> str:
        """The zone residency checks: the configured zone, else the tier name."""
        return self.zone or self.tier
