"""How long evaluating 10,000 prompts' router scores takes (requirement: under 2 s).

Prompts are drawn with replacement from the recorded RouterArena outcomes shipped with
tierlink (replay), the router scores are random. Side by side in one run:
  (a) tierlink's exact curve + all metrics + per-task breakdown (one sort, cumulative sums),
  (b) a RouteLLM-style evaluation: one pass over the table per threshold, at 10 cut-offs,
  (c) the same naive loop at full resolution (every distinct threshold) on 1,000 prompts.

    python benchmarks/eval_speed.py [--prompts 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import date

import numpy as np
import pandas as pd

from tierlink.bench.evaluate import Prepared, evaluate
from tierlink.bench.pair import ModelPair
from tierlink.bench.splits import SplitReport
from tierlink.core.outcomes import read_outcomes
from tierlink.data import shipped

WEAK, STRONG = "claude-3-haiku-20240307", "gemini-2.0-flash-001"


def synthetic_pair(n: int, seed: int) -> ModelPair:
    base = ModelPair.from_outcomes(read_outcomes(shipped("routerarena_mcq.csv")), WEAK, STRONG)
    pick = np.random.default_rng(seed).integers(0, len(base), n)
    sub = base.subset(pick)
    return ModelPair(**{**sub.__dict__, "prompt_ids": np.array([f"p{i}" for i in range(n)])})


def naive_threshold_loop(pair: ModelPair, scores: np.ndarray, thresholds: np.ndarray) -> list[float]:
    """RouteLLM's way: for each threshold, route and average over the whole table."""
    table = pd.DataFrame({"score": scores, "weak": pair.weak_score, "strong": pair.strong_score})
    qualities = []
    for t in thresholds:
        routed_strong = table["score"] >= t
        qualities.append(float(np.where(routed_strong, table["strong"], table["weak"]).mean()))
    return qualities


def timed(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main(n: int, repeats: int) -> None:
    pair = synthetic_pair(n, seed=0)
    scores = np.random.default_rng(1).random(n)
    prepared = Prepared("routerarena-resampled", pair, pd.DataFrame(),
                        SplitReport(train_prompts=0, test_prompts=n, leaked_removed=0, source_split=False), "replay")
    exact = timed(lambda: evaluate(prepared, {"router": scores}, by_task=True), repeats)
    cutoffs = np.quantile(scores, np.linspace(0, 1, 10))
    naive10 = timed(lambda: naive_threshold_loop(pair, scores, cutoffs), repeats)
    small = pair.subset(np.arange(n) < 1000)
    small_scores = scores[:1000]
    naive_full = timed(lambda: naive_threshold_loop(small, small_scores, np.unique(small_scores)), 1)
    exact_small = timed(lambda: evaluate(Prepared("s", small, pd.DataFrame(), prepared.split, "replay"), {"router": small_scores}, by_task=False), repeats)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"eval_speed (replay outcomes resampled, simulated scores; {date.today()}, commit {commit}; best of {repeats})")
    print(f"  (a) tierlink, {n} prompts, exact curve, router+random+oracle + per-task: {exact * 1000:8.1f} ms  ({'PASS' if exact < 2 else 'FAIL'}: < 2 s)")
    print(f"  (b) naive loop, {n} prompts, 10 cut-offs, quality only            : {naive10 * 1000:8.1f} ms")
    print(f"  (c) naive loop, 1000 prompts, every threshold                      : {naive_full * 1000:8.1f} ms")
    print(f"      tierlink, 1000 prompts, exact curve + all metrics              : {exact_small * 1000:8.1f} ms")
    print(f"  ratio naive-full / tierlink at 1000 prompts: {naive_full / exact_small:.0f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    main(args.prompts, args.repeats)
