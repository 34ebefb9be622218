"""Fig. 4's band in one run: every policy on the case study at one budget, side by side.

The per-query policies (always-device, always-cloud, random, threshold, cascade, budget-pacing),
learned routers trained on the train split's conversations (prompt-only, and post-hoc: it reads
the device's recorded draft, after paying for it), the LLM-as-router baseline once per catalogue
model (prompted, live in process on this CPU; its own calls and their measured latency are
charged to the conversation's budget), the greedy oracle and, given their directories, the RL
router's seeds (trained by `benchmarks/rl_router.py --keep DIR`). The 60 test-split
conversations: quality replay; latency, dollars and the attachment effect simulated.

    python benchmarks/case_study_band.py [--router-models all] [--rl benchmarks/out/rl/seed0 ...]
        [--budget-s 30] [--budget-usd 0.05] [--link 5g] [--png benchmarks/out/fig4_band.png]
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

from rich.progress import Progress

from tierlink import __version__
from tierlink.bench.case_study_run import PER_QUERY_POLICIES, PolicySummary, run_policy
from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, CaseStudy, build_case_study
from tierlink.bench.oracle import OraclePolicy
from tierlink.bench.plots import plot_tradeoffs
from tierlink.bench.recorded_calls import RecordedCalls, catalogue_router
from tierlink.core import Budget
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.learn.data import PairData
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.rl_train import train_difficulty
from tierlink.learn.routers.base import RouterMeta
from tierlink.learn.routers.posthoc import PostHocRouter
from tierlink.network.link import Link
from tierlink.network.registry import link_profiles
from tierlink.routing.policy import Policy, make_policy
from tierlink.routing.relevance import default_scorer


def learned_routers(folder: Path) -> dict[str, Path]:
    """Prompt-only and post-hoc routers fitted on 200 train-split conversations' records."""
    train = build_case_study(200, seed=1000, split="train")
    meta = RouterMeta(router="logreg", weak="device", strong="cloud", train_prompts=0, features="", tierlink_version=__version__)
    train_difficulty(train).save(folder / "prompt-only", meta)
    posthoc = PostHocRouter().fit(PairData.from_outcomes(train.table.frame, "device", "cloud"), EmbeddingCache())
    posthoc.save(folder / "post-hoc", meta.model_copy(update={"router": "posthoc", "needs_draft": True,
                                                               "features": PostHocRouter.features}))
    return {"learned (prompt-only)": folder / "prompt-only", "learned (post-hoc)": folder / "post-hoc"}


def policies(case: CaseStudy, folder: Path, router_models: list[str], rl_dirs: list[Path]) -> dict[str, Policy]:
    """Every policy of the band, the references and the RL seeds, built once (all are stateless)."""
    built: dict[str, Policy] = {name: make_policy(name, **params) for name, params in PER_QUERY_POLICIES.items()}
    built |= {name: make_policy("learned", model=str(path), threshold=0.5) for name, path in learned_routers(folder).items()}
    built |= {f"llm-router({m})": make_policy("llm-router", router=catalogue_router(m)) for m in router_models}
    built["oracle"] = OraclePolicy(case)
    built |= {f"rl({d.name})": make_policy("rl", model=str(d)) for d in rl_dirs}
    return built


def main(args: argparse.Namespace) -> None:
    profiles = endpoint_profiles()
    device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
    link = Link.from_profile(args.link, "robot", "cloud", link_profiles().require(args.link, "--link"))
    case = build_case_study(args.conversations, seed=0, split="test")
    budget = Budget(latency_s=args.budget_s, dollars=args.budget_usd)
    catalogue = model_catalogue()
    models = [n for n, m in catalogue.items() if m.installed] if args.router_models == "all" else [m for m in args.router_models.split(",") if m]
    scorer = default_scorer()
    results: dict[str, PolicySummary] = {}
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        built = policies(case, Path(tmp), models, args.rl)
        for name, policy in built.items():
            task = progress.add_task(name, total=len(case.conversations))
            results[name] = asyncio.run(run_policy(name, lambda p=policy: p, case, budget, link, device, cloud, scorer,
                                                   partial(progress.advance, task), unconstrained=not name.startswith("rl(")))
        live = {name: p.router.live_calls for name, p in built.items() if isinstance(getattr(p, "router", None), RecordedCalls)}
    report(results, live, case, args)


def report(results: dict[str, PolicySummary], live: dict[str, int], case: CaseStudy, args: argparse.Namespace) -> None:
    """The markdown table, the RL seeds' mean against the band, and Fig. 4 with the band shaded."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    turns = sum(len(c.turns) for c in case.conversations)
    print(f"case_study_band ({date.today()}, commit {commit}; {len(case.conversations)} test conversations, {turns} turns; "
          f"budget {args.budget_s:g} s / ${args.budget_usd:g}, link {args.link}; quality replay, latency/dollars/attachment "
          "effect simulated, llm-routers' own calls live on this CPU)\n")
    print("| policy | quality/turn | s/conv | $/conv | cloud turns | refused | down-tier | over s / $ | no budget: quality, over any |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in results.values():
        free = "-" if s.unconstrained_quality is None else f"{s.unconstrained_quality:.3f}, {s.unconstrained_over_any}"
        print(f"| {s.policy} | {s.mean_quality:.4f} | {s.mean_latency_s:.2f} | {s.mean_dollars:.5f} | {100 * s.cloud_share:.0f}% | "
              f"{s.refusals} | {s.down_tier} | {s.latency_over_budget} / {s.dollar_over_budget} | {free} |")
    for name, calls in live.items():
        print(f"  {name}: {calls} distinct live router calls")
    rl = [s for name, s in results.items() if name.startswith("rl(")]
    if rl:
        q, lat, usd = (statistics.mean(getattr(s, f) for s in rl) for f in ("mean_quality", "mean_latency_s", "mean_dollars"))
        band = [s for name, s in results.items() if not name.startswith(("rl(", "oracle"))]
        beaten = [s.policy for s in band if q > s.mean_quality and lat <= s.mean_latency_s and usd <= s.mean_dollars]
        above = [s.policy for s in band if q >= s.mean_quality]
        print(f"\nrl ({len(rl)} seeds, mean): quality {q:.4f}, {lat:.2f} s, ${usd:.5f}; at or above {len(above)} of {len(band)} "
              f"policies of the band in quality; dominates {len(beaten)}: {', '.join(beaten) or 'none'}")
    points = [(s.policy, s.mean_latency_s, s.mean_dollars, s.mean_quality) for s in results.values()]
    plot_tradeoffs(points, f"case study: {len(case.conversations)} conversations, budget {args.budget_s:g} s / ${args.budget_usd:g}",
                   args.png, "quality replay; latency, dollars simulated; llm-router calls live")
    print(f"\nfigure: {args.png}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--router-models", default="all", help="catalogue models for llm-router, comma-separated, or all")
    parser.add_argument("--rl", type=Path, nargs="*", default=[], help="RL router directories (one per seed)")
    parser.add_argument("--budget-s", type=float, default=30.0)
    parser.add_argument("--budget-usd", type=float, default=0.05)
    parser.add_argument("--link", default="5g")
    parser.add_argument("--png", type=Path, default=Path("benchmarks/out/fig4_band.png"))
    main(parser.parse_args())
