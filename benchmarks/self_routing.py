"""Self-routing against its baselines on held-out prompts, at a cap on cloud calls (issue 15).

For each run directory of `tierlink route self-train` (one per seed): the trained device served by
llama.cpp with its adapter (live), its help tags sent to the cloud within the cap, next to the
baselines on the same test prompts: cloud only; the device alone; random offload at the cap; the
cascade on live signals (lowest mean log-probability first); and the best prompt-only router of
`learn/` (picked on held-out training prompts). The baselines use the untrained device, or the
task-tuned one (`--task-only DIR`, same seed order) when given. The cloud's answers are live and
cached per run. Prints mean ± sd over seeds.

    python benchmarks/self_routing.py --runs benchmarks/out/self/seed0 ... [--task-only ...] [--no-filter ...]
        [--ratios 0.3] [--test 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
from datetime import date
from pathlib import Path

from tierlink.config.build import catalogue_endpoint
from tierlink.learn.embeddings import EmbeddingCache
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


def evaluate_seed(run: Path, task_only: Path | None, no_filter: Path | None, ratio: float, test_size: int) -> list[Served]:
    """Every method on this seed's held-out test prompts."""
    config = run_config(run)
    for other in (task_only, no_filter):
        if other is not None:
            same_split(config, run_config(other), other)
    train, test = task_split(config)
    test = test[:test_size]
    cloud = ask_cloud(config, train + test, run)
    ours = answers_of(run, config, test, "help")
    results = [served("cloud only", test, ours, cloud, [True] * len(test)),
               served("self-route (ours)" if config.filtering else "self-route without filtering", test, ours, cloud,
                      first_asks([a.asked for a in ours], ratio))]
    if no_filter is not None:
        plain = answers_of(no_filter, config, test, "help")
        results.append(served("self-route without filtering", test, plain, cloud, first_asks([a.asked for a in plain], ratio)))
    base_label = "task-tuned device" if task_only is not None else "untrained device"
    local = answers_of(task_only, config, test, "local")
    results.append(served(f"{base_label} alone", test, local, cloud, [False] * len(test)))
    results.append(served(f"{base_label} + random offload", test, local, cloud, at_random(len(test), ratio, config.seed)))
    signal = [-(a.mean_logprob if a.mean_logprob is not None else -1e9) for a in local]  # no log-probs: least sure
    results.append(served(f"{base_label} + cascade (log-prob)", test, local, cloud, highest(signal, ratio)))
    train_local = answers_of(task_only, config, train, "local")
    name, router, _ = best_router(train, [a.correct for a in train_local], cloud, ratio, seed=config.seed)
    _, sent = routed_accuracy(router, test, [a.correct for a in local], cloud, ratio, EmbeddingCache())
    results.append(served(f"{base_label} + best prompt-only router ({name})", test, local, cloud, sent))
    return results


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    task_only = args.task_only or [None] * len(args.runs)
    no_filter = args.no_filter or [None] * len(args.runs)
    for ratio in args.ratios:
        by_method: dict[str, list[Served]] = {}
        for run, tuned, unfiltered in zip(args.runs, task_only, no_filter, strict=True):
            for result in evaluate_seed(run, tuned, unfiltered, ratio, args.test):
                by_method.setdefault(result.method, []).append(result)
        print(f"\nself_routing ({date.today()}, commit {commit}; {len(args.runs)} seeds, {args.test} held-out test prompts "
              f"each, call cap {ratio:.0%}; device served live by llama.cpp, cloud live and cached)\n")
        print("| method | accuracy | call rate | accuracy by level |")
        print("|---|---|---|---|")
        for method, runs in by_method.items():
            acc = [r.accuracy for r in runs]
            calls = [r.call_rate for r in runs]
            levels = {lv: statistics.mean(r.by_level[lv] for r in runs) for lv in runs[0].by_level}
            sd = statistics.pstdev(acc) if len(acc) > 1 else 0.0
            print(f"| {method} | {statistics.mean(acc):.3f} ± {sd:.3f} | {statistics.mean(calls):.1%} | "
                  + ", ".join(f"{lv}: {v:.2f}" for lv, v in levels.items()) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, nargs="+", required=True)
    parser.add_argument("--task-only", type=Path, nargs="*")
    parser.add_argument("--no-filter", type=Path, nargs="*")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3])
    parser.add_argument("--test", type=int, default=150)
    main(parser.parse_args())
