"""A 100-agent debate on asyncio and on a local Ray cluster: the same answers and ledger, and what
Ray adds per model call. (live wall times; the agents' answers are simulated)

Agents are profile-driven `SimulatedEndpoint`s (fixed answers A/B/C, phone profile), so the wall
time is the runtime's own overhead, not a model's. On Ray each agent's endpoint lives in an actor
of its own (`scale/ray_runtime.py`) on a local cluster on 127.0.0.1; the pattern code is the same.
No live slice: a driver that loads a llama.cpp model itself while Ray runs exited silently here
(`team run --runtime ray` loads models only in the actors and is unaffected).

    python benchmarks/ray_overhead.py [--agents 100] [--rounds 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.agents.patterns.debate import debate  # noqa: E402
from tierlink.agents.result import Task, TeamResult  # noqa: E402
from tierlink.agents.team import Agent, Team  # noqa: E402
from tierlink.agents.topology import parse_topology  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402
from tierlink.endpoints.simulated import SimulatedEndpoint  # noqa: E402
from tierlink.network.node import Node  # noqa: E402
from tierlink.scale.ray_runtime import RayRuntime  # noqa: E402

TASK = Task(id="q", question="Which letter? Answer with one letter.", gold="B")


def simulated_team(n: int) -> Team:
    profile = endpoint_profiles()["phone/gemma3-1b-q4"]
    return Team([Agent(f"a{i}", SimulatedEndpoint(f"sim{i}", profile, f"phone{i}", answer="ABBCB"[i % 5], output_tokens=4),
                       Node(name=f"phone{i}", tier="device")) for i in range(n)])


def ledger_key(result: TeamResult) -> tuple[list[dict], list[tuple]]:
    """The ledger without wall-clock stamps, charges in (round, agent) order; a live call's
    measured seconds (and the joules made of them) differ from run to run, its tokens and dollars not."""
    transfers = [t.model_dump(exclude={"time_s"}) for t in result.ledger]
    charges = sorted((c.round, c.caller, c.kind, c.usage.input_tokens, c.usage.output_tokens, round(c.usage.dollars, 12))
                     for c in result.ledger.charges)
    return transfers, charges


def timed(team: Team, spec: str, rounds: int, max_tokens: int) -> tuple[TeamResult, float]:
    started = time.perf_counter()
    result = asyncio.run(debate(TASK, team, parse_topology(spec, team.names), rounds=rounds, max_tokens=max_tokens))
    return result, time.perf_counter() - started


def compare(label: str, team: Team, runtime: RayRuntime, spec: str, rounds: int, max_tokens: int, repeats: int) -> None:
    """Both runtimes side by side, `repeats` times each, alternating."""
    on_ray = runtime.team(team)
    timed(on_ray, spec, rounds, max_tokens)  # warm: actors start, models load
    walls: dict[str, list[float]] = {"asyncio": [], "ray": []}
    same = []
    for _ in range(repeats):
        local, local_s = timed(team, spec, rounds, max_tokens)
        remote, remote_s = timed(on_ray, spec, rounds, max_tokens)
        walls["asyncio"].append(local_s)
        walls["ray"].append(remote_s)
        same.append(local.answers == remote.answers and ledger_key(local) == ledger_key(remote))
    calls = len(local.ledger.charges)
    a, r = statistics.median(walls["asyncio"]), statistics.median(walls["ray"])
    print(f"| {label} | {len(team.agents)} | {spec} | {calls} | {len(local.ledger)} | {a:.3f} | {r:.3f} | {r / a:.1f}x "
          f"| {1000 * (r - a) / calls:.2f} | {sum(same)}/{len(same)} |", flush=True)
    runtime.release()


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    runtime = RayRuntime(num_cpus=2)
    runtime.start()
    print(f"commit {commit}; local Ray cluster on 127.0.0.1, 2 CPUs; medians of {args.repeats} alternating runs (live wall times)\n")
    print("| agents' models | agents | topology | model calls | messages | asyncio s | Ray s | Ray / asyncio "
          "| Ray adds, ms per call | same answers and ledger |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    try:
        compare("simulated", simulated_team(args.agents), runtime, "sparse:4", args.rounds, 4, args.repeats)
    finally:
        runtime.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args())
