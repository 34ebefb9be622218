"""Quality of every policy across budgets from a quarter to twice the default (30 s / $0.05).

The case study's 60 test-split conversations (quality replay; latency, dollars and the
attachment effect simulated) under budgets scaled together in latency and dollars; each policy
keeps its default parameters at every budget, and RL routers (trained once, on sampled budgets,
by `benchmarks/rl_router.py --keep DIR`) are evaluated as trained. Prints one row per budget and
draws quality against the budget scale.

    python benchmarks/budget_sweep.py [--scales 0.25,0.5,0.75,1,1.5,2] [--policies always-cloud,...]
        [--rl benchmarks/out/rl/seed0 ...] [--ablation benchmarks/out/rl/nobudget0 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
from datetime import date
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tierlink.bench.case_study_run import PER_QUERY_POLICIES, run_policy  # noqa: E402
from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, build_case_study  # noqa: E402
from tierlink.bench.oracle import OraclePolicy  # noqa: E402
from tierlink.core import Budget  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402
from tierlink.network.link import Link  # noqa: E402
from tierlink.network.registry import link_profiles  # noqa: E402
from tierlink.routing.policy import make_policy  # noqa: E402
from tierlink.routing.relevance import default_scorer  # noqa: E402

DEFAULT_S, DEFAULT_USD = 30.0, 0.05


def sweep(scales: list[float], rl_dirs: list[Path], conversations: int, names: list[str],
          ablation_dirs: list[Path]) -> dict[str, list[float]]:
    """Mean quality per turn of each policy (and the RL seeds' mean) at each budget scale."""
    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    case = build_case_study(conversations, seed=0, split="test")
    scorer = default_scorer()
    oracle = OraclePolicy(case)  # stateless: one index of the records serves every conversation
    quality: dict[str, list[float]] = {name: [] for name in names}
    groups = {f"rl ({len(rl_dirs)} seeds)": rl_dirs, f"rl without budget state ({len(ablation_dirs)} seeds)": ablation_dirs}
    trained = {label: [make_policy("rl", model=str(d)) for d in dirs] for label, dirs in groups.items() if dirs}
    quality.update({label: [] for label in trained})
    for scale in scales:
        budget = Budget(latency_s=DEFAULT_S * scale, dollars=DEFAULT_USD * scale)
        for name in names:
            make = (lambda: oracle) if name == "oracle" else partial(make_policy, name, **PER_QUERY_POLICIES[name])
            summary = asyncio.run(run_policy(name, make, case, budget, link, device, cloud, scorer, unconstrained=False))
            quality[name].append(summary.mean_quality)
        for label, policies in trained.items():
            runs = [asyncio.run(run_policy("rl", lambda p=p: p, case, budget, link, device, cloud, scorer, unconstrained=False))
                    for p in policies]
            quality[label].append(statistics.mean(r.mean_quality for r in runs))
        print(f"budget x{scale:g} done", flush=True)
    return quality


def main() -> None:
    """Run the sweep, print the table, draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="0.25,0.5,0.75,1,1.5,2")
    parser.add_argument("--rl", type=Path, nargs="*", default=[])
    parser.add_argument("--ablation", type=Path, nargs="*", default=[], help="RL routers trained without budget state")
    parser.add_argument("--policies", default=",".join([*PER_QUERY_POLICIES, "oracle"]), help="comma-separated; empty: RL only")
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/budget_sweep.png"))
    args = parser.parse_args()
    scales = [float(x) for x in args.scales.split(",")]
    names = [n for n in args.policies.split(",") if n]
    quality = sweep(scales, args.rl, args.conversations, names, args.ablation)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"\nbudget_sweep ({date.today()}, commit {commit}; {args.conversations} test conversations; quality replay, "
          "latency/dollars/attachment effect simulated); mean quality per turn\n")
    print("| policy | " + " | ".join(f"{DEFAULT_S * s:g} s / ${DEFAULT_USD * s:g}" for s in scales) + " |")
    print("|---|" + "---|" * len(scales))
    for name, values in quality.items():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    for name, values in quality.items():
        ax.plot(scales, values, marker="*" if name.startswith("rl") else "o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(scales, [f"x{s:g}" for s in scales])
    ax.set_xlabel("budget (x 30 s and $0.05 per conversation)")
    ax.set_ylabel("mean quality per turn")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, "quality replay; latency, dollars, attachment effect simulated", fontsize=7, color="dimgrey")
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"\nfigure: {args.out}")


if __name__ == "__main__":
    main()
