"""Data residency: private content never leaves the allowed privacy zones, whatever a policy says."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tierlink.core.messages import Attachment, Request


class Residency(BaseModel):
    """Zones that may receive content marked private (the device's own zone by default)."""

    model_config = ConfigDict(frozen=True)

    private_zones: frozenset[str] = frozenset({"device"})

    def text_allowed(self, request: Request, zone: str) -> bool:
        """May this request's messages go to an endpoint in `zone`? Private ones only to the
        private zones; one limited to some zones (a gateway key's) only to those."""
        return (not request.private or zone in self.private_zones) and (not request.zones or zone in request.zones)

    def attachment_allowed(self, attachment: Attachment, request: Request, zone: str) -> bool:
        """May this attachment go to `zone`? It is private if it or its request is marked so."""
        return ((not (attachment.private or request.private) or zone in self.private_zones)
                and (not request.zones or zone in request.zones))
