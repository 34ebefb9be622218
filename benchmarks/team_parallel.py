"""Concurrent rounds vs sequential ones, with latency-bound endpoints.

Each agent talks to a real OpenAI-compatible HTTP server on 127.0.0.1 (tests/servers/
fault_server.py, route `slowMS`) that answers after a fixed delay, like a remote API whose
time is spent waiting, not computing. The same debate runs with the agents of a round called
concurrently (asyncio) and one after the other, alternating, and the wall times are compared in
one run. Wall times are **live** (measured); the server's delay is the chosen latency.

    python benchmarks/team_parallel.py [--agents 6] [--rounds 2] [--delay-ms 200] [--reps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

from tierlink.agents.patterns.debate import debate
from tierlink.agents.result import Task
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import full
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.node import Node

SERVER = Path(__file__).resolve().parents[1] / "tests" / "servers" / "fault_server.py"
TASK = Task(id="q", question="Is the sky blue on a clear day? Answer yes or no.")


def start_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, str(SERVER), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the local server did not start")


async def once(team: Team, rounds: int, concurrent: bool) -> float:
    started = time.perf_counter()
    await debate(TASK, team, full(team.names), rounds=rounds, concurrent=concurrent)
    return time.perf_counter() - started


def main(agents: int, rounds: int, delay_ms: int, reps: int, port: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    server = start_server(port)
    try:
        profile = endpoint_profiles()["gpt-4o-mini"]
        team = Team([Agent(f"a{i}", OpenAICompatEndpoint(f"api{i}", f"http://127.0.0.1:{port}/slow{delay_ms}/v1", "fault-model",
                                                         profile, "cloud", max_retries=0), Node(name=f"cloud{i}", tier="cloud"))
                     for i in range(agents)])
        asyncio.run(once(team, 0, True))  # warm-up: connections, imports
        concurrent, sequential = [], []
        for _ in range(reps):
            concurrent.append(asyncio.run(once(team, rounds, True)))
            sequential.append(asyncio.run(once(team, rounds, False)))
    finally:
        server.terminate()
        server.wait()
    c, s = statistics.median(concurrent), statistics.median(sequential)
    calls = agents * (rounds + 1)
    print(f"team_parallel ({date.today()}, commit {commit}; live wall times against a local server answering after "
          f"{delay_ms} ms; {agents} agents, {rounds} revision rounds, {calls} calls per debate, {reps} alternating reps)\n")
    print("| mode | median s | ideal s |")
    print("|---|---|---|")
    print(f"| sequential | {s:.2f} | {calls * delay_ms / 1000:.2f} |")
    print(f"| concurrent rounds | {c:.2f} | {(rounds + 1) * delay_ms / 1000:.2f} |")
    print(f"\nspeed-up (sequential / concurrent, medians of the same run): {s / c:.2f}x (ideal {agents}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    main(args.agents, args.rounds, args.delay_ms, args.reps, args.port)
