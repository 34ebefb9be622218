"""Swarms on the virtual clock: 1,000 agents x 10 rounds, how a round's cost grows with agents per
topology and history policy, and consensus under message loss and outages. (simulated)

Agents answer from ZeroEval GSM8K's recorded outcomes (42 models; agent i is model i mod 42),
revise by plurality (a stated simulation assumption, `scale/swarm.py`), and talk over 4G access
links (the link profile's figures) with phone-class decode speed (`phone/gemma3-1b-q4`). Wall
times are this machine's, measured side by side in one run; everything else is simulated.

    python benchmarks/swarm_scaling.py [--questions 20] [--data-root ../shared/data/outcomes]
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.core.tokens import CHARS_PER_TOKEN  # noqa: E402
from tierlink.scale.recorded_agents import RecordedAgents  # noqa: E402
from tierlink.scale.swarm import SwarmConfig, SwarmResult, run_swarm  # noqa: E402

SIZES = (10, 30, 100, 300, 1000)
TOPOLOGIES = ("sparse:4", "ring", "star", "tree:2", "full")
FULL_MAX = 300  # full is N^2 messages a round: 1,000 agents would be 10M messages


def split_questions(recorded: RecordedAgents, count: int) -> list[int]:
    """The questions the recorded models disagree on most (closest to half of them right)."""
    def right(q: str) -> float:
        models = recorded.models_for(q)
        return sum(recorded.correct(m, q) for m in models) / len(models)
    order = sorted(range(len(recorded.questions)), key=lambda i: abs(right(recorded.questions[i]) - 0.5))
    return order[:count]


def ledger_exact(result: SwarmResult) -> bool:
    """The ledger agrees with the rounds' own counts: every delivered or reconciled message, every byte."""
    totals = result.ledger.total()
    return (totals.transfers == sum(r.delivered + r.reconciled for r in result.rounds)
            and totals.bytes == sum(r.bytes for r in result.rounds))


def headline(recorded: RecordedAgents, questions: list[int]) -> None:
    """1,000 agents x 10 rounds, lossless and under 10% loss with outages."""
    print("\n| setting | questions | wall s per run (median, max) | messages per run | ledger exact | consensus reached |")
    print("|---|---|---|---|---|---|")
    for label, extra in (("lossless", {}), ("10% loss, 6 outages/agent-hour", {"loss": 0.1, "outages_per_hour": 6})):
        runs = [run_swarm(SwarmConfig(agents=1000, rounds=10, **extra), recorded, q) for q in questions]
        walls = [r.wall_s for r in runs]
        print(f"| 1,000 agents x 10 rounds, sparse:4, {label} | {len(runs)} | {statistics.median(walls):.2f}, {max(walls):.2f} "
              f"| {statistics.mean(len(r.ledger) for r in runs):.0f} | {sum(map(ledger_exact, runs))}/{len(runs)} "
              f"| {sum(r.consensus_round is not None for r in runs)}/{len(runs)} |")


def slope(xs: list[int], ys: list[float]) -> float:
    """The growth exponent: the least-squares slope of log y on log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def scaling(recorded: RecordedAgents, question: int) -> None:
    """Per round: messages, bytes and wall milliseconds from 10 to 1,000 agents, and their exponents."""
    print("\n| topology | history | agents | messages per round | KB per round | wall ms per round |")
    print("|---|---|---|---|---|---|")
    exponents = []
    for topology in TOPOLOGIES:
        for history in ("last_round", "full"):
            sizes = [n for n in SIZES if topology != "full" or n <= FULL_MAX]
            rows = []
            for n in sizes:
                result = run_swarm(SwarmConfig(agents=n, rounds=10, topology=topology, history=history), recorded, question)
                rounds = result.rounds[1:]
                rows.append((n, statistics.mean(r.delivered for r in rounds), statistics.mean(r.bytes for r in rounds) / 1000,
                             1000 * result.wall_s / len(rounds)))
                print(f"| {topology} | {history} | {n} | {rows[-1][1]:.0f} | {rows[-1][2]:.1f} | {rows[-1][3]:.2f} |")
            ns = [r[0] for r in rows]
            exponents.append((topology, history, slope(ns, [r[1] for r in rows]), slope(ns, [r[2] for r in rows]),
                              slope(ns, [r[3] for r in rows]), f"{ns[0]}-{ns[-1]}"))
    print("\nGrowth exponents (cost of a round ~ agents^k, least squares on log-log):\n")
    print("| topology | history | agents | k, messages | k, bytes | k, wall time |")
    print("|---|---|---|---|---|---|")
    for topology, history, k_msg, k_bytes, k_wall, span in exponents:
        print(f"| {topology} | {history} | {span} | {k_msg:.2f} | {k_bytes:.2f} | {k_wall:.2f} |")


def consensus(recorded: RecordedAgents, questions: list[int]) -> None:
    """Consensus and correctness under loss and outages, over the split questions."""
    print("\n| loss | outages per agent-hour | runs | consensus reached | mean round reached | agree at start -> end "
          "| correct at start -> end | agent-rounds lost to outages | messages reconciled per run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for loss in (0.0, 0.1, 0.3):
        for per_hour in (0.0, 6.0, 60.0):
            runs = [run_swarm(SwarmConfig(agents=1000, rounds=10, loss=loss, outages_per_hour=per_hour), recorded, q)
                    for q in questions]
            reached = [r.consensus_round for r in runs if r.consensus_round is not None]
            print(f"| {loss:.0%} | {per_hour:g} | {len(runs)} | {len(reached)}/{len(runs)} "
                  f"| {statistics.mean(reached) if reached else math.nan:.1f} "
                  f"| {statistics.mean(r.rounds[0].agreement for r in runs):.2f} -> {statistics.mean(r.rounds[-1].agreement for r in runs):.2f} "
                  f"| {statistics.mean(r.rounds[0].correct for r in runs):.2f} -> {statistics.mean(r.rounds[-1].correct for r in runs):.2f} "
                  f"| {statistics.mean(r.offline_share for r in runs):.3f} "
                  f"| {statistics.mean(sum(x.reconciled for x in r.rounds) for r in runs):.0f} |")


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    recorded = RecordedAgents.load(data_root=args.data_root)
    questions = split_questions(recorded, args.questions)
    print(f"{len(recorded.questions)} recorded GSM8K questions ({'full set' if args.data_root else 'shipped slice'}), "
          f"{args.questions} most split; {CHARS_PER_TOKEN} chars a token; commit {commit} (simulated; wall times live)")
    headline(recorded, questions[:5])
    scaling(recorded, questions[0])
    consensus(recorded, questions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--data-root", type=Path, default=None)
    main(parser.parse_args())
