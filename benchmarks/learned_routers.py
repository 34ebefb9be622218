"""Every trained router against random, oracle and the TF-IDF logistic-regression baseline (replay).

For each outcome set: train on the leak-free train split, score the test split, report APGR
and CPT(50%) on the exact curve. The post-hoc router also reads the weak model's recorded
answer (the device draft) where the set has one. Embeddings are cached, so a second run is fast.

    python benchmarks/learned_routers.py --data-root ../shared/data/outcomes [--datasets a,b]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.progress import Progress

from tierlink.bench.datasets import dataset_spec, load_from
from tierlink.bench.evaluate import evaluate, prepare
from tierlink.learn.data import prompts_of
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import ALL_ROUTERS, ROUTERS
from tierlink.learn.train import score_prompts, train_router

DATASETS = ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench", "zeroeval-gsm8k", "llmrouter", "routerarena")


def main(data_root: Path | None, keys: list[str]) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    source = f"full sets under {data_root}" if data_root else "slices shipped with tierlink"
    cache = EmbeddingCache()
    rows = []
    with Progress(transient=True) as progress, tempfile.TemporaryDirectory() as tmp:
        task = progress.add_task("training", total=len(keys) * len(ALL_ROUTERS))
        for key in keys:
            spec = dataset_spec(key)
            frame = load_from(key, data_root)
            prepared = prepare(key, frame, spec.weak, spec.strong, 0.3, 0, key == "llmrouter")
            prompts = prompts_of(prepared.pair, frame)
            has_drafts = prompts.drafts is not None  # the weak model's recorded answers
            scores, seconds = {}, {}
            for name in [*ROUTERS, *(["posthoc"] if has_drafts else [])]:
                progress.update(task, description=f"{key}: {name}")
                started = time.perf_counter()
                train_router(prepared.train, spec.weak, spec.strong, name, Path(tmp) / key / name, cache)
                scores[name] = score_prompts(Path(tmp) / key / name, prompts, cache)
                seconds[name] = time.perf_counter() - started
                progress.advance(task)
            result = evaluate(prepared, scores, by_task=False).overall
            rows.append((key, prepared, result, seconds))
    print(f"learned routers ({date.today()}, commit {commit}, {source}; quality replay; APGR / CPT(50%) on the test split)\n")
    names = ["random", "oracle", *ALL_ROUTERS]
    print("| data set | train / test prompts | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for key, prepared, result, _ in rows:
        cells = [f"{result[n].apgr:.3f} / {100 * result[n].cpt50:.0f}%" if n in result else "n/a" for n in names]
        print(f"| {key} | {prepared.split.train_prompts} / {prepared.split.test_prompts} | " + " | ".join(cells) + " |")
    print("\ntraining + scoring seconds (first run includes embedding the prompts):")
    for key, _, _, seconds in rows:
        print(f"  {key}: " + ", ".join(f"{n} {s:.0f}s" for n, s in seconds.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args()
    main(args.data_root, [k.strip() for k in args.datasets.split(",") if k.strip()])
