"""The RL router against the per-query policies on the case study, over 5 training seeds.

Trains MaskablePPO on conversations from the train split of the questions, then evaluates every
seed's policy (the checkpoint with the best reward on 100 conversations over the train split's held-out
validation questions; training uses the rest of the train split) on the same 60 evaluation conversations from the test split under the paper's 30 s / $0.05 budget, next to
always-device, always-cloud, random, threshold, cascade, budget-pacing and the learned
per-query router. Prints mean and
spread, and draws Fig. 4 with the RL point's spread as error bars. Quality is replay; latency,
dollars and the camera-view effect are simulated.

    python benchmarks/rl_router.py [--seeds 5] [--steps 30000] [--conversations 60] [--cost-weight W] [--validation 100]
                                   [--keep DIR] [--ablation]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
from datetime import date
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tierlink import __version__  # noqa: E402
from tierlink.bench.case_study_run import PER_QUERY_POLICIES, PolicySummary, run_policy  # noqa: E402
from tierlink.bench.conversations import build_case_study  # noqa: E402
from tierlink.core import Budget  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402
from tierlink.learn.rl_train import (  # noqa: E402
    CLOUD_PROFILE,
    COST_WEIGHT,
    DEVICE_PROFILE,
    train_difficulty,
    train_rl,
)
from tierlink.learn.routers.base import RouterMeta  # noqa: E402
from tierlink.network.link import Link  # noqa: E402
from tierlink.network.registry import link_profiles  # noqa: E402
from tierlink.routing.policy import make_policy  # noqa: E402
from tierlink.routing.relevance import default_scorer  # noqa: E402


def _issue14_targets(results: dict[str, PolicySummary], rl_runs: list[PolicySummary]) -> None:
    """Issue 14's targets: >= 0.95 of unconstrained always-cloud's quality at <= 0.5 of its latency
    and dollars with zero violations, and domination of every per-query policy (mean over seeds)."""
    cloud = results["always-cloud"]
    if cloud.unconstrained_quality is None:
        return
    q = statistics.mean(r.mean_quality for r in rl_runs)
    lat = statistics.mean(r.mean_latency_s for r in rl_runs)
    usd = statistics.mean(r.mean_dollars for r in rl_runs)
    violations = sum(r.latency_over_budget + r.dollar_over_budget for r in rl_runs)
    print(f"\nunconstrained always-cloud: quality {cloud.unconstrained_quality:.4f}, {cloud.unconstrained_latency_s:.2f} s, "
          f"${cloud.unconstrained_dollars:.5f} per conversation")
    print(f"rl / unconstrained always-cloud: quality {q / cloud.unconstrained_quality:.3f} (target >= 0.95), latency "
          f"{lat / cloud.unconstrained_latency_s:.3f} (<= 0.5), dollars {usd / cloud.unconstrained_dollars:.3f} (<= 0.5), "
          f"violations {violations} (0)")
    beaten = [s.policy for s in results.values() if q > s.mean_quality and lat <= s.mean_latency_s and usd <= s.mean_dollars]
    print(f"rl dominates {len(beaten)} of {len(results)} per-query policies: {', '.join(beaten) or 'none'}")


def main(seeds: int, steps: int, conversations: int, out: Path, cost_weight: float, validation: int,
         keep: Path | None = None, ablation: bool = False) -> None:
    profiles = endpoint_profiles()
    device, cloud = profiles[DEVICE_PROFILE], profiles[CLOUD_PROFILE]
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    case = build_case_study(conversations, seed=0, split="test")  # RL and its difficulty router train on "train"
    budget = Budget(latency_s=30, dollars=0.05)
    scorer = default_scorer()
    results: dict[str, PolicySummary] = {}
    for name, params in PER_QUERY_POLICIES.items():
        results[name] = asyncio.run(run_policy(name, partial(make_policy, name, **params), case, budget, link, device, cloud, scorer))
    rl_runs: list[PolicySummary] = []
    ablated: list[PolicySummary] = []
    kept: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        # the learned per-query router: the prompt-only router in the RL state, trained on the
        # train-split conversations, escalating at its natural 0.5 cut
        learned = Path(tmp) / "learned"
        train_difficulty(build_case_study(200, seed=1000, split="train")).save(learned, RouterMeta(
            router="logreg", weak="device", strong="cloud", train_prompts=0, features="", tierlink_version=__version__))
        results["learned"] = asyncio.run(run_policy("learned", partial(make_policy, "learned", model=str(learned), threshold=0.5),
                                                    case, budget, link, device, cloud, scorer))
        for seed in range(seeds):
            directory = keep / f"seed{seed}" if keep is not None else Path(tmp) / f"seed{seed}"
            meta = train_rl(directory, steps=steps, seed=seed, cost_weight=cost_weight, validation=validation)
            kept.append(f"step {meta.best_step}" if meta.best_step is not None else "last")
            policy = make_policy("rl", model=str(directory))
            rl_runs.append(asyncio.run(run_policy(f"rl seed {seed}", lambda p=policy: p, case, budget, link, device, cloud, scorer)))
            if ablation:  # the same seed without the remaining-budget features in its state
                blind = keep / f"nobudget{seed}" if keep is not None else Path(tmp) / f"nobudget{seed}"
                train_rl(blind, steps=steps, seed=seed, cost_weight=cost_weight, validation=validation, budget_state=False)
                ablated.append(asyncio.run(run_policy(f"rl without budget state, seed {seed}",
                                                      lambda p=make_policy("rl", model=str(blind)): p,
                                                      case, budget, link, device, cloud, scorer)))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"rl_router ({date.today()}, commit {commit}; {conversations} conversations, {sum(len(c.turns) for c in case.conversations)} turns; "
          f"budget 30 s / $0.05; quality replay, latency/dollars/attachment effect simulated)\n")
    print("| policy | quality/turn | s/conversation | $/conversation | cloud turns | over latency | over $ |")
    print("|---|---|---|---|---|---|---|")
    for s in results.values():
        print(f"| {s.policy} | {s.mean_quality:.4f} | {s.mean_latency_s:.2f} | {s.mean_dollars:.5f} | {100 * s.cloud_share:.0f}% | {s.latency_over_budget} | {s.dollar_over_budget} |")

    def spread(values: list[float], digits: int) -> str:
        return f"{statistics.mean(values):.{digits}f} ± {statistics.pstdev(values):.{digits}f}"

    q = [r.mean_quality for r in rl_runs]
    lat = [r.mean_latency_s for r in rl_runs]
    usd = [r.mean_dollars for r in rl_runs]
    print(f"| rl ({seeds} seeds, mean ± sd) | {spread(q, 4)} | {spread(lat, 2)} | {spread(usd, 5)} | "
          f"{100 * statistics.mean(r.cloud_share for r in rl_runs):.0f}% | {sum(r.latency_over_budget for r in rl_runs)} | "
          f"{sum(r.dollar_over_budget for r in rl_runs)} |")
    for r, checkpoint in zip(rl_runs, kept, strict=True):
        print(f"  {r.policy}: quality {r.mean_quality:.4f}, {r.mean_latency_s:.2f} s, ${r.mean_dollars:.5f} (checkpoint: {checkpoint})")
    if ablated:
        print(f"| rl without budget state ({len(ablated)} seeds) | {spread([r.mean_quality for r in ablated], 4)} | "
              f"{spread([r.mean_latency_s for r in ablated], 2)} | {spread([r.mean_dollars for r in ablated], 5)} | "
              f"{100 * statistics.mean(r.cloud_share for r in ablated):.0f}% | {sum(r.latency_over_budget for r in ablated)} | "
              f"{sum(r.dollar_over_budget for r in ablated)} |")
    _issue14_targets(results, rl_runs)
    best = max((s for s in results.values()), key=lambda s: s.mean_quality)
    meets = statistics.mean(q) >= best.mean_quality and statistics.mean(lat) < best.mean_latency_s and statistics.mean(usd) < best.mean_dollars
    print(f"\nFig. 4 target (mean over seeds: at least the quality of the best per-query policy, {best.policy} "
          f"{best.mean_quality:.4f}, at lower latency and cost): {'met' if meets else 'not met'}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120, sharey=True)
    for s in results.values():
        for ax, x in ((left, s.mean_latency_s), (right, s.mean_dollars)):
            ax.scatter(x, s.mean_quality, s=30)
            ax.annotate(s.policy, (x, s.mean_quality), fontsize=7, xytext=(4, 3), textcoords="offset points")
    for ax, xs in ((left, lat), (right, usd)):
        ax.errorbar(statistics.mean(xs), statistics.mean(q), xerr=statistics.pstdev(xs), yerr=statistics.pstdev(q),
                    fmt="*", color="black", markersize=10, capsize=3, label=f"rl ({seeds} seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    left.set_xlabel("mean latency per conversation (s)")
    right.set_xlabel("mean cost per conversation (USD)")
    left.set_ylabel("mean quality per turn")
    fig.suptitle("case study (Fig. 4): policies and the RL router, budget 30 s / $0.05", fontsize=10)
    fig.text(0.01, 0.01, "numbers: quality replay; latency, dollars, attachment effect simulated", fontsize=7, color="dimgrey")
    fig.tight_layout()
    fig.savefig(out)
    print(f"\nfigure: {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--cost-weight", type=float, default=COST_WEIGHT, help="reward's weight on dollars / dollar budget")
    parser.add_argument("--validation", type=int, default=100,
                        help="validation conversations (held-out train-split questions) for keeping the best checkpoint; 0 keeps the last")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/fig4_rl.png"))
    parser.add_argument("--keep", type=Path, default=None, help="keep each seed's trained router in DIR/seedN")
    parser.add_argument("--ablation", action="store_true", help="also train each seed without the budget features")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    main(args.seeds, args.steps, args.conversations, args.out, args.cost_weight, args.validation, args.keep, args.ablation)
