"""Topology pruning (AgentPrune-style) on a live debate of the embedded Gemma 3 270M.

Five agents, each on its own phone (device-device Wi-Fi links), debate RouterArena multiple-
choice questions (mostly True/False) over a full topology. Warm-up debates score every edge by
what its messages did to the reader's answer (`tierlink.agents.pruning.edge_utility`), the
lowest-scoring half of the edges is cut in one shot (every agent keeps its best in-edge), and
the eval questions run on both the full and the pruned topology.

Labels: model answers and model tokens are **live** (llama.cpp); message bytes are **measured**
(the JSON envelopes that would cross the link); message tokens are **estimated** from the live
text (~4 characters per token); link time is **simulated** by the Wi-Fi link model. Gemma 270M
is near chance on these questions, and as a base model it tends to continue the debate
transcript when revising, so an accuracy change shows the mechanics, not quality. All agents
share one greedy model, so their first answers agree; a diagnostics line shows how much the
answers move, which is what the edge utilities can see.

    python benchmarks/topology_pruning.py [--warmup 6 --eval 10 --agents 5 --rounds 2 --ratio 0.5 --max-tokens 8]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import subprocess
import time
from datetime import date

from rich.console import Console
from rich.progress import Progress

from tierlink.agents.patterns.debate import majority
from tierlink.agents.pruning import Phase, PruneReport, prune_experiment
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import full
from tierlink.core.grading import answer_key, grade
from tierlink.data import ROUTERARENA_MCQ, shipped
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.node import Node


def shortest_tasks(count: int) -> list[Task]:
    """The `count` shortest distinct questions (two rows per prompt in the CSV), shortest first,
    ties by id: short prompts keep the live run quick on a CPU."""
    with shipped(ROUTERARENA_MCQ).open(newline="") as handle:
        rows = {row["prompt_id"]: row for row in csv.DictReader(handle)}
    chosen = sorted(rows.values(), key=lambda r: (len(r["prompt"]), r["prompt_id"]))[:count]
    return [Task(id=r["prompt_id"], question=r["prompt"], gold=r["gold"]) for r in chosen]


def pct(before: float, after: float) -> str:
    return f"{100 * (after - before) / before:+.1f}%" if before else "n/a"


def table(report: PruneReport) -> list[str]:
    def acc(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    rows = [
        ("edges", report.edges_before, report.edges_after, pct(report.edges_before, report.edges_after), "topology"),
        ("messages", report.messages_before, report.messages_after,
         pct(report.messages_before, report.messages_after), "measured (ledger)"),
        ("message tokens", report.message_tokens_before, report.message_tokens_after,
         pct(report.message_tokens_before, report.message_tokens_after), "estimated from live text"),
        ("message bytes", report.message_bytes_before, report.message_bytes_after,
         pct(report.message_bytes_before, report.message_bytes_after), "measured bytes"),
        ("link time (s)", f"{report.link_seconds_before:.4f}", f"{report.link_seconds_after:.4f}",
         pct(report.link_seconds_before, report.link_seconds_after), "simulated link time (Wi-Fi)"),
        ("model tokens (in+out)", report.model_tokens_before, report.model_tokens_after,
         pct(report.model_tokens_before, report.model_tokens_after), "live (llama.cpp usage)"),
        (f"accuracy ({report.graded} graded)", acc(report.accuracy_before), acc(report.accuracy_after),
         "n/a" if report.accuracy_change is None else f"{report.accuracy_change:+.2f}", "live (model outputs) vs gold"),
    ]
    lines = ["| figure | full | pruned | change | source |", "|---|---:|---:|---:|---|"]
    lines += [f"| {name} | {a} | {b} | {c} | {src} |" for name, a, b, c, src in rows]
    return lines


def diagnostics(results: list[TeamResult]) -> str:
    """Round-0 majority accuracy (independent answers) and distinct answer keys per round."""
    graded = [grade(majority(r.answers[0]), r.task.gold) for r in results if r.task.gold is not None]
    rounds = max(len(r.answers) for r in results)
    distinct = [sum(len({answer_key(a) for a in r.answers[t].values()}) for r in results if t < len(r.answers))
                / sum(t < len(r.answers) for r in results) for t in range(rounds)]
    return (f"round-0 majority accuracy {sum(graded) / len(graded):.2f} (live, {len(graded)} graded); "
            f"distinct answer keys per round (mean over tasks): {', '.join(f'{d:.1f}' for d in distinct)}")


async def main(warmup: int, evaluate: int, agents: int, rounds: int, ratio: float, max_tokens: int, temperature: float) -> None:
    gemma = LlamaCppEndpoint("gemma", endpoint_profiles()["laptop-cpu/gemma3-270m-q4"], "device")
    gemma.load()
    team = Team([Agent(f"a{i}", gemma, Node(name=f"phone{i}", tier="device")) for i in range(agents)])
    topology = full(team.names)
    tasks = shortest_tasks(warmup + evaluate)
    runs: dict[Phase, list[TeamResult]] = {"warm-up": [], "full": [], "pruned": []}
    started = time.perf_counter()
    with Progress(console=Console(stderr=True), transient=True) as progress:
        bar = progress.add_task("debates (warm-up, full, pruned)", total=warmup + 2 * evaluate)

        def seen(phase: Phase, result: TeamResult) -> None:
            runs[phase].append(result)
            progress.advance(bar)

        report = await prune_experiment(tasks[:warmup], tasks[warmup:], team, topology, ratio=ratio, rounds=rounds,
                                        max_tokens=max_tokens, on_task=seen, temperature=temperature)
    wall = time.perf_counter() - started
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"topology_pruning ({date.today()}, commit {commit}; live Gemma 3 270M Q4 via llama.cpp, {agents} agents on "
          f"phones over simulated Wi-Fi, full debate, {rounds} rounds, last-round history, max_tokens={max_tokens}, temperature {temperature} with a seed per agent; "
          f"{warmup} warm-up + {evaluate} eval RouterArena MCQs; prune ratio {ratio}; wall {wall:.0f} s)\n")
    print("\n".join(table(report)))
    scored = sorted(report.utility.items(), key=lambda kv: (kv[1], kv[0]))
    nonzero = [f"{edge} {u:+.2f}" for edge, u in scored if u]
    print(f"\nedge utility (live warm-up debates): {len(nonzero)} of {len(scored)} edges non-zero"
          f"{': ' + ', '.join(nonzero) if nonzero else ''}")
    print("pruned edges: " + ", ".join(f"{s}->{r}" for s, r in report.pruned))
    print(f"messages over a pruned edge in the pruned runs: {report.pruned_edge_messages}")
    for phase, results in runs.items():
        if results:
            print(f"diagnostics, {phase} runs: {diagnostics(results)}")
    change = "n/a" if report.accuracy_change is None else f"{report.accuracy_change:+.2f}"
    print(f"\ntokens saved: {report.tokens_saved_pct:.1f}% of message tokens (bytes: {report.bytes_saved_pct:.1f}%); "
          f"accuracy change: {change} (Gemma 270M is near chance here and echoes the transcript when revising: "
          "mechanics, not quality)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--eval", type=int, default=10)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=0.7, help="per-agent sampling, so the agents differ")
    args = parser.parse_args()
    asyncio.run(main(args.warmup, args.eval, args.agents, args.rounds, args.ratio, args.max_tokens, args.temperature))
