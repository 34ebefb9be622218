"""Quality of every policy across budgets from a quarter to twice the default (30 s / $0.05).

The case study's 60 test-split conversations (quality replay; latency, dollars and the
attachment effect simulated) under budgets scaled together in latency and dollars; each policy
keeps its default parameters at every budget, and RL routers (trained once, on sampled budgets,
by `benchmarks/rl_router.py --keep DIR`) are evaluated as trained. Prints one row per budget and
draws quality against the budget scale.

    python benchmarks/budget_sweep.py [--scales 0.25,0.5,0.75,1,1.5,2] [--rl benchmarks/out/rl/seed0 ...]
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

from tierlink.bench.case_study_run import run_policy  # noqa: E402
from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, build_case_study  # noqa: E402
from tierlink.core import Budget  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402
from tierlink.network.link import Link  # noqa: E402
from tierlink.network.registry import link_profiles  # noqa: E402
from tierlink.routing.policy import make_policy  # noqa: E402
from tierlink.routing.relevance import default_scorer  # noqa: E402

POLICIES = {
    "always-device": {}, "always-cloud": {}, "random": {"seed": 0},
    "threshold": {"difficulty": "reasoning", "threshold": 0.25},
    "cascade": {"min_logprob": None, "max_draft_tokens": 150}, "budget-pacing": {},
}
DEFAULT_S, DEFAULT_USD = 30.0, 0.05


def sweep(scales: list[float], rl_dirs: list[Path], conversations: int) -> dict[str, list[float]]:
    """Mean quality per turn of each policy (and the RL seeds' mean) at each budget scale."""
    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    case = build_case_study(conversations, seed=0, split="test")
    scorer = default_scorer()
    quality: dict[str, list[float]] = {name: [] for name in POLICIES}
    rl = [make_policy("rl", model=str(d)) for d in rl_dirs]
    if rl:
        quality[f"rl ({len(rl)} seeds)"] = []
    for scale in scales:
        budget = Budget(latency_s=DEFAULT_S * scale, dollars=DEFAULT_USD * scale)
        for name, params in POLICIES.items():
            summary = asyncio.run(run_policy(name, partial(make_policy, name, **params), case, budget, link, device,
                                             cloud, scorer, unconstrained=False))
            quality[name].append(summary.mean_quality)
        if rl:
            runs = [asyncio.run(run_policy("rl", lambda p=p: p, case, budget, link, device, cloud, scorer, unconstrained=False))
                    for p in rl]
            quality[f"rl ({len(rl)} seeds)"].append(statistics.mean(r.mean_quality for r in runs))
        print(f"budget x{scale:g} done", flush=True)
    return quality


def main() -> None:
    """Run the sweep, print the table, draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="0.25,0.5,0.75,1,1.5,2")
    parser.add_argument("--rl", type=Path, nargs="*", default=[])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/budget_sweep.png"))
    args = parser.parse_args()
    scales = [float(x) for x in args.scales.split(",")]
    quality = sweep(scales, args.rl, args.conversations)
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
