"""Data residency: private content never leaves the allowed privacy zones, whatever a policy says."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tierlink.core.messages import Attachment, Request


class Residency(BaseModel):
    """Zones that may receive content marked private (the device's own zone by default)."""

    model_config = ConfigDict(frozen=True)

    private_zones: frozenset[str] = frozenset({"device"})

    def text_refused(self, request: Request, zone: str) -> str | None:
        """Why this request's messages may not go to an endpoint in `zone` (None if they may):
        private ones go only to the private zones; one limited to some zones (a gateway key's)
        only to those."""
        if request.zones and zone not in request.zones:
            return f"this request may only go to zone(s) {', '.join(request.zones)}, not '{zone}'"
        if request.private and zone not in self.private_zones:
            return f"private data may not leave the {'/'.join(sorted(self.private_zones))} zone"
        return None

    def attachment_allowed(self, attachment: Attachment, request: Request, zone: str) -> bool:
        """May this attachment go to `zone`? It is private if it or its request is marked so."""
        return ((not (attachment.private or request.private) or zone in self.private_zones)
                and (not request.zones or zone in request.zones))
