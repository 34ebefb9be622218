"""Sourced figures for the kinds of link between tiers (wired, Wi-Fi, 5G, 4G, satellite)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LinkProfile(BaseModel):
    """Typical capacity of one access technology; a Link instantiates it between two nodes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    up_mbps: float = Field(ge=0, description="Uplink bandwidth, megabits per second.")
    down_mbps: float = Field(ge=0, description="Downlink bandwidth, megabits per second.")
    rtt_ms: float = Field(ge=0, description="Round-trip time, milliseconds.")
    loss: float = Field(0.0, ge=0, lt=1, description="Packet loss probability.")
    available: bool = Field(True, description="False for the 'offline' profile.")
    source: str = Field(description="Citation(s) for the figures above.")
