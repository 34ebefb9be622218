"""Availability trace: the intervals during which a link is down (intermittent connectivity)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Outage(BaseModel):
    """A half-open interval [start_s, end_s) of clock time during which the link is down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float = Field(ge=0)
    end_s: float | None = Field(None, description="None = down until the end of the run.")

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"outage end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self

    def covers(self, t: float) -> bool:
        """Is the link down at `t` under this outage (start inclusive, end exclusive)?"""
        return self.start_s <= t and (self.end_s is None or t < self.end_s)

    def overlaps(self, start: float, end: float) -> bool:
        """Does this outage hit any part of [start, end)? Transfers check their whole span."""
        return self.start_s < end and (self.end_s is None or start < self.end_s)


class AvailabilityTrace(BaseModel):
    """A list of outages; the link is up at every other time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outages: tuple[Outage, ...] = ()

    @classmethod
    def always_down(cls) -> AvailabilityTrace:
        """A trace with one endless outage from 0: the link is never up."""
        return cls(outages=(Outage(start_s=0.0),))

    def is_up(self, t: float) -> bool:
        """True while no outage covers `t`."""
        return not any(o.covers(t) for o in self.outages)

    def first_outage_in(self, start: float, end: float) -> Outage | None:
        """The earliest outage that overlaps [start, end), if any."""
        hits = [o for o in self.outages if o.overlaps(start, end)]
        return min(hits, key=lambda o: o.start_s) if hits else None

    def next_up(self, t: float) -> float:
        """The earliest time from `t` when the link is up (inf under an endless outage)."""
        moved = True
        while moved:
            moved = False
            for outage in self.outages:
                if outage.covers(t):
                    if outage.end_s is None:
                        return float("inf")
                    t, moved = outage.end_s, True
        return t
