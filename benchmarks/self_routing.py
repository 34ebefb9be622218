"""Self-routing against its baselines on held-out prompts, at a cap on cloud calls (issue 15).

For each run directory of `tierlink route self-train` (one per seed): the trained device served by
llama.cpp with its adapter (live), its help tags sent to the cloud within the cap, next to the
baselines on the same test prompts: cloud only; the device alone; random offload at the cap; the
cascade on live signals (lowest mean log-probability first); and the best prompt-only router of
`learn/` (picked on held-out training prompts). The baselines use the untrained device, or the
task-tuned one (`--task-only DIR`, same seed order) when given. The cloud's answers are live and
cached per run. Prints mean ± sd over seeds.

    python benchmarks/self_routing.py --runs benchmarks/out/self/seed0 ... [--task-only ...] [--no-filter ...]
        [--ratios 0.1 0.2 0.3 0.5] [--test 150] [--plot benchmarks/out/self_routing_sweep.png]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import subprocess
from datetime import date
from pathlib import Path

from tierlink.config.build import catalogue_endpoint
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.self_routing.ask_probability import help_log_likelihoods
from tierlink.learn.self_routing.baselines import best_router, routed_accuracy
from tierlink.learn.self_routing.config import SelfTrainConfig
from tierlink.learn.self_routing.evaluate import (
    DeviceAnswer,
    Served,
    at_random,
    device_answers,
    first_asks,
    highest,
    served,
)
from tierlink.learn.self_routing.policy_model import HELP_SYSTEM, LOCAL_SYSTEM
from tierlink.learn.self_routing.run import ADAPTER_GGUF, ask_cloud, task_split
from tierlink.learn.self_routing.trainer import STATE_FILE


def answers_of(run: Path | None, config: SelfTrainConfig, items: list, label: str) -> list[DeviceAnswer]:  # type: ignore[type-arg]
    """The device's served answers: with the run's adapter and system turn, or untrained (run None)."""
    if run is None:
        endpoint = catalogue_endpoint(config.device, "--device", system=HELP_SYSTEM if label == "help" else LOCAL_SYSTEM)
    else:
        saved = json.loads((run / "self_route.json").read_text(encoding="utf-8"))
        endpoint = catalogue_endpoint(config.device, "--device", system=saved["system"], adapter=run / ADAPTER_GGUF)
    return asyncio.run(device_answers(endpoint, items, max_tokens=config.max_new_tokens))


def run_config(run: Path) -> SelfTrainConfig:
    """The settings a run was trained with."""
    return SelfTrainConfig.model_validate(json.loads((run / STATE_FILE).read_text(encoding="utf-8"))["config"])


def same_split(config: SelfTrainConfig, other: SelfTrainConfig, where: Path) -> None:
    """A baseline run must have trained on the same items, or it may have seen the test prompts."""
    fields = ("seed", "train_items", "levels", "ops", "device", "cloud")
    differ = [f for f in fields if getattr(config, f) != getattr(other, f)]
    if differ:
        raise SystemExit(f"{where} was trained with other {', '.join(differ)} than the self-route run: "
                         "its training prompts may include this run's test prompts")


def oracle_sends(device: list[DeviceAnswer], cloud: dict[str, bool], items: list, ratio: float) -> list[bool]:  # type: ignore[type-arg]
    """The bound for any router of this device: within the cap, send the prompts it gets wrong and the cloud gets right."""
    gain = [float(cloud[i.prompt_id] and not d.correct) for i, d in zip(items, device, strict=True)]
    return highest(gain, ratio)


def evaluate_seed(run: Path, task_only: Path | None, no_filter: Path | None, ratios: list[float],
                  test_size: int) -> dict[float, list[Served]]:
    """Every method on this seed's held-out test prompts, at each call cap (answers made once)."""
    config = run_config(run)
    for other in (task_only, no_filter):
        if other is not None:
            same_split(config, run_config(other), other)
    train, test = task_split(config)
    test = test[:test_size]
    cloud = ask_cloud(config, train + test, run)
    ours = answers_of(run, config, test, "help")
    plain = answers_of(no_filter, config, test, "help") if no_filter is not None else None
    base_label = "task-tuned device" if task_only is not None else "untrained device"
    local = answers_of(task_only, config, test, "local")
    train_local = answers_of(task_only, config, train, "local")
    ask_score = help_log_likelihoods(config, run, test)  # where the policy would ask, if served by rank
    print_ask_probability(run, test, ask_score)
    signal = [-(a.mean_logprob if a.mean_logprob is not None else -1e9) for a in local]  # no log-probs: least sure
    by_ratio = {}
    for ratio in ratios:
        results = [served("cloud only", test, ours, cloud, [True] * len(test)),
                   served("self-route (ours)" if config.filtering else "self-route without filtering", test, ours, cloud,
                          first_asks([a.asked for a in ours], ratio)),
                   served("self-route ranked by its own P(help tag) (analysis)", test, ours, cloud, highest(ask_score, ratio))]
        if plain is not None:
            results.append(served("self-route without filtering", test, plain, cloud, first_asks([a.asked for a in plain], ratio)))
        results.append(served(f"{base_label} alone", test, local, cloud, [False] * len(test)))
        results.append(served(f"{base_label} + random offload", test, local, cloud, at_random(len(test), ratio, config.seed)))
        results.append(served(f"{base_label} + cascade (log-prob)", test, local, cloud, highest(signal, ratio)))
        name, router, _ = best_router(train, [a.correct for a in train_local], cloud, ratio, seed=config.seed)
        _, sent = routed_accuracy(router, test, [a.correct for a in local], cloud, ratio, EmbeddingCache())
        results.append(served(f"{base_label} + best prompt-only router [{name}]", test, local, cloud, sent))
        results.append(served(f"{base_label} + oracle router (bound)", test, local, cloud, oracle_sends(local, cloud, test, ratio)))
        by_ratio[ratio] = results
    return by_ratio


def print_ask_probability(run: Path, items: list, log_p: list[float]) -> None:  # type: ignore[type-arg]
    """Mean P(help tag) by level: a policy that learned where to ask puts more on the harder levels."""
    by_level: dict[int, list[float]] = {}
    for item, value in zip(items, log_p, strict=True):
        by_level.setdefault(item.level, []).append(math.exp(value))
    print(f"{run}: mean P(help tag | prompt) at T = 1 by level: "
          + ", ".join(f"{lv}: {statistics.mean(v):.3f}" for lv, v in sorted(by_level.items())))


def method_key(method: str) -> str:
    """A method's name without the seed-specific router pick in brackets."""
    return method.split(" [")[0]


def print_table(ratio: float, by_method: dict[str, list[Served]], seeds: int, test: int, commit: str) -> None:
    """Mean ± sd over seeds per method at one cap."""
    print(f"\nself_routing ({date.today()}, commit {commit}; {seeds} seeds, {test} held-out test prompts "
          f"each, call cap {ratio:.0%}; device served live by llama.cpp, cloud live and cached)\n")
    print("| method | accuracy | call rate | accuracy by level |")
    print("|---|---|---|---|")
    for method, runs in by_method.items():
        acc = [r.accuracy for r in runs]
        calls = [r.call_rate for r in runs]
        levels = {lv: statistics.mean(r.by_level[lv] for r in runs) for lv in runs[0].by_level}
        sd = statistics.pstdev(acc) if len(acc) > 1 else 0.0
        picks = sorted({r.method.split(" [")[1].rstrip("]") for r in runs if " [" in r.method})
        label = f"{method} ({', '.join(picks)})" if picks else method
        print(f"| {label} | {statistics.mean(acc):.3f} ± {sd:.3f} | {statistics.mean(calls):.1%} | "
              + ", ".join(f"{lv}: {v:.2f}" for lv, v in levels.items()) + " |")


def plot_sweep(tables: dict[float, dict[str, list[Served]]], path: Path, title: str) -> None:
    """Accuracy against the call cap, one line per method (mean over seeds, sd as error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = sorted(tables)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in tables[ratios[0]]:
        if method in ("cloud only",) or method.endswith("alone"):
            mean = statistics.mean(r.accuracy for r in tables[ratios[0]][method])
            ax.axhline(mean, linestyle=":", color="grey" if method != "cloud only" else "black", label=f"{method} ({mean:.2f})")
            continue
        means = [statistics.mean(r.accuracy for r in tables[x][method]) for x in ratios]
        sds = [statistics.pstdev([r.accuracy for r in tables[x][method]]) for x in ratios]
        ax.errorbar([100 * x for x in ratios], means, yerr=sds, marker="o", capsize=3, label=method,
                    linewidth=2.5 if method.startswith("self-route (ours)") else 1.2)
    ax.set_xlabel("call cap (% of prompts sent to the cloud)")
    ax.set_ylabel("accuracy on held-out prompts")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    print(f"\nsweep plotted to {path}")


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    task_only = args.task_only or [None] * len(args.runs)
    no_filter = args.no_filter or [None] * len(args.runs)
    tables: dict[float, dict[str, list[Served]]] = {ratio: {} for ratio in args.ratios}
    for run, tuned, unfiltered in zip(args.runs, task_only, no_filter, strict=True):
        for ratio, results in evaluate_seed(run, tuned, unfiltered, args.ratios, args.test).items():
            for result in results:
                tables[ratio].setdefault(method_key(result.method), []).append(result)
    for ratio, by_method in tables.items():
        print_table(ratio, by_method, len(args.runs), args.test, commit)
    if args.plot is not None:
        trained = run_config(args.runs[0]).call_ratio
        plot_sweep(tables, args.plot, f"self-routing, {len(args.runs)} seed(s), {args.test} test prompts; trained at a "
                                      f"{trained:.0%} cap, served at each cap (commit {commit})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, nargs="+", required=True)
    parser.add_argument("--task-only", type=Path, nargs="*")
    parser.add_argument("--no-filter", type=Path, nargs="*")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3])
    parser.add_argument("--test", type=int, default=150)
    parser.add_argument("--plot", type=Path, help="with several --ratios: accuracy against the cap, as a PNG")
    parsed = parser.parse_args()
    if parsed.plot is not None and len(parsed.ratios) < 2:
        parser.error("--plot draws accuracy against the cap: give at least two --ratios")
    main(parsed)
