"""A model that joins at run time, routed to without retraining: the N-way router trained without
it, the model added from its price and k probe outcomes (`NWayRouter.join`), against the router
retrained with it, on held-out prompts. (replay)

For each dataset and each model M in turn: the router is trained on the train prompts of every
model but M; M joins with its mean train price and its recorded outcomes on k train prompts drawn
at random (3 draws); both routers are scored by AIQ over the same cost range on the test prompts,
which neither saw. "Absent" is the router that never learns of M (M never chosen). Outcomes are
recorded (ZeroEval GSM8K's priced models; LLMRouter's 9), prices from each set's price table.
"Blend" joins also weight the trained models' logits (`fit_blend`), one weight each.

    python benchmarks/join_without_retraining.py [--data-root ../shared/data/outcomes] [--probes 10 30]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.bench.datasets import load_from  # noqa: E402
from tierlink.bench.intervals import mean_interval  # noqa: E402
from tierlink.bench.splits import split_outcomes  # noqa: E402
from tierlink.learn.data import Prompts  # noqa: E402
from tierlink.learn.embeddings import EmbeddingCache  # noqa: E402
from tierlink.learn.nway import NWayRouter, evaluate_nway  # noqa: E402


def priced(frame):  # type: ignore[no-untyped-def]
    """Rows of the models with a price for every row (N-way selection needs costs)."""
    ok = frame.groupby("model")["cost_usd"].apply(lambda s: s.notna().all())
    return frame[frame["model"].isin(ok[ok].index)]


def probes_of(train, model: str, k: int, seed: int) -> tuple[Prompts, np.ndarray]:  # type: ignore[no-untyped-def]
    """k train prompts of `model` drawn at random, and its recorded 0/1 outcomes on them."""
    rows = train[train["model"] == model].sample(n=min(k, int((train["model"] == model).sum())), random_state=seed)
    prompts = Prompts(rows["prompt_id"].to_numpy(dtype=str), rows["prompt"].astype(str).tolist(), rows["task"].astype(str).tolist())
    return prompts, (rows["score"].to_numpy(dtype=float) >= 0.5).astype(float)


def interval(values: list[float]) -> str:
    """Mean with a 95% bootstrap interval over held-out models."""
    found = mean_interval(values)
    return f"{found.value:+.4f} [{found.low:+.4f}, {found.high:+.4f}]"


def run(key: str, data_root: Path | None, probe_counts: list[int], seed: int, cache: EmbeddingCache) -> None:
    """Every model of one dataset held out in turn: joined vs retrained vs absent."""
    frame = priced(load_from(key, data_root))
    train, test, _ = split_outcomes(frame, 0.3, seed, False)
    models = sorted(frame["model"].unique())
    retrained = evaluate_nway(NWayRouter().fit(train, cache), test, cache).aiq_router
    deltas: dict[tuple[int, bool], list[float]] = {(k, blend): [] for k in probe_counts for blend in (False, True)}
    absent = []
    for model in models:
        without = NWayRouter().fit(train[train["model"] != model], cache)
        never = copy.deepcopy(without)
        never.joined[model], never.prices[model] = -50.0, float(train.loc[train["model"] == model, "cost_usd"].mean())
        absent.append(evaluate_nway(never, test, cache).aiq_router - retrained)
        for k, blend in deltas:
            draws = []
            for draw in range(3):
                joined = copy.deepcopy(without)
                prompts, outcomes = probes_of(train, model, k, seed + draw)
                joined.join(model, float(train.loc[train["model"] == model, "cost_usd"].mean()), prompts, outcomes, cache, blend=blend)
                draws.append(evaluate_nway(joined, test, cache).aiq_router - retrained)
            deltas[(k, blend)].append(statistics.mean(draws))
        print(f"  {key}: {model} done", file=sys.stderr, flush=True)
    n_test = test["prompt_id"].nunique()
    matters = [i for i, a in enumerate(absent) if a < -0.01]  # models the router misses when they are absent
    def row(label: str, values: list[float]) -> str:
        sub = [values[i] for i in matters]
        return (f"| {key} | {len(models)} | {n_test} | {retrained:.4f} | {label} | {interval(values)} "
                f"| {sum(abs(d) <= 0.02 for d in values)}/{len(models)} | {interval(sub) if sub else '-'} "
                f"| {sum(abs(d) <= 0.02 for d in sub)}/{len(sub)} |")
    print(row("absent", absent))
    for (k, blend), values in deltas.items():
        print(row(f"joined{' (blend)' if blend else ''}, {k} probes", values))


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    print(f"commit {commit}; {'full sets from ' + str(args.data_root) if args.data_root else 'shipped slices'} (replay)\n")
    print("| dataset | models | test prompts | AIQ retrained with every model | held-out model | ΔAIQ vs retrained "
          "(mean over held-out models) | within 0.02 | ΔAIQ, models whose absence costs > 0.01 | within 0.02 |")
    print("|---|---|---|---|---|---|---|---|---|")
    cache = EmbeddingCache()
    for key in args.datasets:
        run(key, args.data_root, args.probes, args.seed, cache)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["zeroeval-gsm8k", "llmrouter"])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--probes", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
