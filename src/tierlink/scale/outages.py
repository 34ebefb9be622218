"""Outage traces for a fleet: each agent's link goes down at random (a Poisson process of gaps
with exponential lengths), reproducibly for a seed, so a swarm run can lose agents for a while and
get them back (vehicles in a tunnel, drones behind a hill)."""

from __future__ import annotations

import random

from tierlink.network.availability import AvailabilityTrace, Outage


def random_trace(rng: random.Random, horizon_s: float, per_hour: float, mean_s: float) -> AvailabilityTrace:
    """Outages over [0, horizon_s): gaps start at `per_hour` a link-hour on average and last
    `mean_s` on average (both exponential); none when `per_hour` is 0."""
    if per_hour <= 0 or horizon_s <= 0:
        return AvailabilityTrace()
    outages, t = [], 0.0
    while True:
        t += rng.expovariate(per_hour / 3600.0)
        if t >= horizon_s:
            return AvailabilityTrace(outages=tuple(outages))
        length = max(1e-3, rng.expovariate(1.0 / mean_s))
        outages.append(Outage(start_s=t, end_s=t + length))
        t += length


def down_fraction(trace: AvailabilityTrace, horizon_s: float) -> float:
    """The share of [0, horizon_s) the trace is down."""
    down = sum(min(o.end_s if o.end_s is not None else horizon_s, horizon_s) - o.start_s
               for o in trace.outages if o.start_s < horizon_s)
    return down / horizon_s if horizon_s > 0 else 0.0
