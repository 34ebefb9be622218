"""Cost of routing itself: a policy decision (non-LLM policies) and the session per turn.

Requirements: a decision under 1 ms at p50; the session adds under 2 ms per turn beyond the
endpoint's own time. Endpoints are simulated (instant, profile-based) so that what is timed is
tierlink's work: state building, policy, residency/modality checks, worst-case reservation,
attachment selection (lexical scorer), link accounting on a virtual clock, history, budget.
The same endpoint is also called directly, side by side, to subtract its own cost.

    python benchmarks/session_overhead.py [--turns 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from datetime import date

from tierlink.core import Attachment, Budget, Message, Request
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.network.registry import link_profiles
from tierlink.routing.policy import make_policy
from tierlink.routing.relevance import LexicalRelevance
from tierlink.routing.session import Session

POLICIES = ("always-device", "always-cloud", "random", "threshold", "budget-pacing", "cascade")
QUESTION = "Which of the camera views shows the obstacle in front of the robot, and how far is it?"
VIEWS = tuple(Attachment(kind="image", mime="image/jpeg", size_bytes=60_000, description=f"{v} camera view")
              for v in ("front", "left", "rear"))


def build(policy: str) -> Session:
    profiles = endpoint_profiles()
    clock = VirtualClock()
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    endpoints = {
        "device": SimulatedEndpoint("device", profiles["jetson-orin-nano/llama3.2-1b-q4"], "robot", output_tokens=40),
        "cloud": LinkedEndpoint(SimulatedEndpoint("cloud", profiles["gpt-4o"], "cloud", output_tokens=80), link, clock),
    }
    return Session(endpoints, "device", make_policy(policy), Budget(), zones={"device": "device", "cloud": "cloud"},
                   expected_turns=5, scorer=LexicalRelevance())


async def decision_times(policy: str, n: int) -> list[float]:
    session = build(policy)
    state = session.preview(Request(messages=(Message(role="user", content=QUESTION),), attachments=VIEWS))
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await session.policy.decide(state)
        times.append(time.perf_counter() - started)
    return times


async def turn_times(policy: str, n: int) -> tuple[list[float], list[float]]:
    """Per-turn wall time through the session, and of the same endpoint called directly."""
    session_times, direct_times = [], []
    session = build(policy)
    direct = build(policy).endpoints
    for i in range(n):
        if i % 5 == 0:
            session = build(policy)  # conversations of 5 turns: history stays realistic
        request = Request(messages=(Message(role="user", content=f"{QUESTION} ({i})"),), attachments=VIEWS, max_tokens=128)
        started = time.perf_counter()
        result = await session.ask(request)
        session_times.append(time.perf_counter() - started)
        target = direct[result.endpoint or "device"]
        started = time.perf_counter()
        await target.complete(request)
        direct_times.append(time.perf_counter() - started)
    return session_times, direct_times


def p50_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


async def main(turns: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"session_overhead ({date.today()}, commit {commit}; simulated endpoints, wall time of tierlink's own work)")
    print(f"{'policy':>14} | decision p50 ms | decision p99 ms | turn p50 ms | endpoint p50 ms | overhead p50 ms")
    for policy in POLICIES:
        decisions = await decision_times(policy, 5000)
        session_t, direct_t = await turn_times(policy, turns)
        overhead = [s - d for s, d in zip(session_t, direct_t, strict=True)]
        p99 = 1000 * sorted(decisions)[int(0.99 * len(decisions))]
        print(f"{policy:>14} | {p50_ms(decisions):15.4f} | {p99:15.4f} | {p50_ms(session_t):11.3f} | "
              f"{p50_ms(direct_t):15.3f} | {p50_ms(overhead):15.3f}")
    print("requirements: decision p50 < 1 ms; session overhead p50 < 2 ms per turn")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=2000)
    asyncio.run(main(parser.parse_args().turns))
