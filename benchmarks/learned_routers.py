"""Every trained router against random, oracle and the TF-IDF logistic-regression baseline (replay),
cross-validated on the train split and tested on the held-out split, with bootstrap intervals.

For each outcome set: 3-fold cross-validated APGR on the leak-free train split (what `route train
--router best` picks by), then each router fitted on the whole train split and scored on the test
split (exact curve), with a 95% bootstrap interval over test prompts. `best` is the router with the
highest cross-validated APGR; its lead over TF-IDF is a paired bootstrap interval. The post-hoc
routers also read the weak model's recorded answer where the set has one.

    python benchmarks/learned_routers.py --data-root ../shared/data/outcomes [--datasets a,b] [--routers a,b]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import date
from pathlib import Path

from rich.progress import Progress

from tierlink.bench.datasets import dataset_spec, load_from
from tierlink.bench.evaluate import prepare
from tierlink.bench.intervals import apgr_difference, apgr_intervals
from tierlink.learn.data import PairData, prompts_of
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import POSTHOC_ROUTERS, ROUTERS
from tierlink.learn.train import cross_validate, make_router

DATASETS = ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench", "zeroeval-gsm8k", "llmrouter", "routerarena")
BASELINE = "tfidf-logreg"


def run_set(key: str, data_root: Path | None, names: list[str], cache: EmbeddingCache, progress: Progress) -> dict:  # type: ignore[type-arg]
    """CV and test APGR of every router on one set, the CV pick, and its paired lead over TF-IDF."""
    spec = dataset_spec(key)
    frame = load_from(key, data_root)
    prepared = prepare(key, frame, spec.weak, spec.strong, 0.3, 0, key == "llmrouter")
    prompts = prompts_of(prepared.pair, frame)
    data = PairData.from_outcomes(prepared.train, spec.weak, spec.strong)
    cache.embed(data.prompts.texts)
    cache.embed(prompts.texts)
    has_drafts = prompts.drafts is not None
    candidates = [n for n in names if n in ROUTERS or (has_drafts and n in POSTHOC_ROUTERS)]
    cv, scores, seconds = {}, {}, {}
    task = progress.add_task(key, total=len(candidates))
    for name in candidates:
        progress.update(task, description=f"{key}: {name}")
        started = time.perf_counter()
        cv[name] = cross_validate(name, data, cache)
        scores[name] = make_router(name).fit(data, cache).score(prompts, cache)
        seconds[name] = time.perf_counter() - started
        progress.advance(task)
    best = max(cv, key=lambda n: cv[n])
    test = apgr_intervals(prepared.pair, scores)
    lead = apgr_difference(prepared.pair, scores[best], scores[BASELINE]) if BASELINE in scores else None
    return {"key": key, "split": prepared.split, "cv": cv, "test": test, "best": best, "lead": lead, "seconds": seconds}


def main(data_root: Path | None, keys: list[str], names: list[str]) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    source = f"full sets under {data_root}" if data_root else "slices shipped with tierlink"
    cache = EmbeddingCache()
    with Progress(transient=True) as progress:
        rows = [run_set(key, data_root, names, cache, progress) for key in keys]
    print(f"learned routers ({date.today()}, commit {commit}, {source}; quality replay)\n")
    print("Cells: 3-fold CV APGR on the train split (repeated on 3 shuffles below 2,000 training prompts, as `route train` does) → test APGR [95% bootstrap interval over test prompts].\n")
    for row in rows:
        split = row["split"]
        print(f"**{row['key']}** ({split.train_prompts} train / {split.test_prompts} test prompts)\n")
        print("| router | CV APGR | test APGR [95% CI] |")
        print("|---|---|---|")
        for name in row["cv"]:
            mark = " (best by CV)" if name == row["best"] else ""
            print(f"| {name}{mark} | {row['cv'][name]:.3f} | {row['test'][name]} |")
        lead = row["lead"]
        print(f"\nbest by CV: {row['best']}; test lead over {BASELINE}: {lead} (paired)\n" if lead else "")
    print("| data set | best by CV | its test APGR | TF-IDF test APGR | lead [95% CI] |")
    print("|---|---|---|---|---|")
    for row in rows:
        base = row["test"].get(BASELINE)
        print(f"| {row['key']} | {row['best']} | {row['test'][row['best']].value:.3f} | "
              f"{base.value:.3f} | {row['lead']} |" if base else f"| {row['key']} | {row['best']} | - | - | - |")
    print("\ntraining seconds (the CV fits + 1 final fit; the first run also embeds the prompts):")
    for row in rows:
        print(f"  {row['key']}: " + ", ".join(f"{n} {s:.0f}s" for n, s in row["seconds"].items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--routers", default=",".join([*ROUTERS, *POSTHOC_ROUTERS]))
    args = parser.parse_args()
    main(args.data_root, [k.strip() for k in args.datasets.split(",") if k.strip()],
         [r.strip() for r in args.routers.split(",") if r.strip()])
