"""How debate traffic grows with the number of agents N and of rounds T, per topology and history.

Every agent answers with the same fixed-length text (simulated endpoints: 24 tokens a call), so
the traffic depends only on the pattern, the topology and the history policy; message bytes
are measured on the serialised messages, message tokens estimated from them. Exponents are
least-squares slopes of log(message tokens) on log N (T fixed) and on log T (N fixed).
Theory for full debate with full history: N(N-1) edges x messages growing with the round
-> O(N^2 T^2); last-round-only -> O(N^2 T); star, chain and sparse have O(N) edges.

    python benchmarks/traffic_scaling.py [--out benchmarks/out/traffic_scaling.png]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from datetime import date
from pathlib import Path

import numpy as np

from tierlink.agents.history import EdgeHistory, HistoryPolicy
from tierlink.agents.patterns.debate import debate
from tierlink.agents.result import Task
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import parse_topology
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.node import Node

NS = (3, 4, 6, 8, 12, 16)
TS = (1, 2, 3, 4, 6, 8)
FIXED_T, FIXED_N = 4, 8
CASES = {  # label -> (topology spec, history kind)
    "full, full history": ("full", "full"),
    "full, last round": ("full", "last_round"),
    "star, full history": ("star", "full"),
    "chain, full history": ("chain", "full"),
    "sparse:2, full history": ("sparse:2", "full"),
    "sparse:2, last round": ("sparse:2", "last_round"),
}
TASK = Task(id="q", question="Is the sky blue on a clear day? Answer yes or no.")


def team_of(n: int) -> Team:
    profile = endpoint_profiles()["laptop-cpu/gemma3-270m-q4"]
    return Team([Agent(f"a{i}", SimulatedEndpoint(f"s{i}", profile, f"phone{i}", answer="yes, it is blue", output_tokens=24),
                       Node(name=f"phone{i}", tier="device")) for i in range(n)])


async def traffic(n: int, t: int, spec: str, history: str) -> tuple[int, int]:
    team = team_of(n)
    result = await debate(TASK, team, parse_topology(spec, team.names), rounds=t,
                          history=HistoryPolicy(default=EdgeHistory(kind=history)))  # type: ignore[arg-type]
    totals = result.ledger.total()
    return totals.tokens, totals.bytes


def slope(xs: tuple[int, ...], ys: list[int]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main(out: Path) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    by_n: dict[str, list[int]] = {}
    by_t: dict[str, list[int]] = {}
    for label, (spec, history) in CASES.items():
        by_n[label] = [asyncio.run(traffic(n, FIXED_T, spec, history))[0] for n in NS]
        by_t[label] = [asyncio.run(traffic(FIXED_N, t, spec, history))[0] for t in TS]
    print(f"traffic scaling ({date.today()}, commit {commit}; simulated endpoints with 24-token answers, message "
          f"tokens estimated from the measured messages; N in {NS} at T={FIXED_T}, T in {TS} at N={FIXED_N})\n")
    print(f"| topology, history | exponent in N | exponent in T | tokens N={NS[-1]},T={FIXED_T} | tokens N={FIXED_N},T={TS[-1]} |")
    print("|---|---|---|---|---|")
    for label in CASES:
        print(f"| {label} | {slope(NS, by_n[label]):.2f} | {slope(TS, by_t[label]):.2f} | {by_n[label][-1]:,} | {by_t[label][-1]:,} |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120)
    for label in CASES:
        left.loglog(NS, by_n[label], "o-", label=f"{label} ({slope(NS, by_n[label]):.2f})", markersize=3)
        right.loglog(TS, by_t[label], "o-", label=f"{label} ({slope(TS, by_t[label]):.2f})", markersize=3)
    left.set_xlabel(f"agents N (T = {FIXED_T} revision rounds)")
    right.set_xlabel(f"revision rounds T (N = {FIXED_N} agents)")
    left.set_ylabel("message tokens per task")
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    fig.suptitle("debate traffic: fitted exponents in the legend", fontsize=10)
    fig.text(0.01, 0.01, "simulated endpoints (fixed 24-token answers); bytes measured, tokens estimated", fontsize=7, color="dimgrey")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(f"\nfigure: {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/traffic_scaling.png"))
    main(parser.parse_args().out)
