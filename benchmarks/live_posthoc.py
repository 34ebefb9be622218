"""Live post-hoc routing: an embedded device model drafts, a router decides whether to escalate.

Weak side **live**: the device's drafts, log-probabilities, entropies and k-sample agreement,
recorded by `tierlink route collect-drafts` and graded against the gold letter (shipped in
src/tierlink/data/drafts/), for Gemma 3 270M or Qwen2.5-Coder-1.5B (`--device`). Two sets
(`--set`): RouterArena's multiple-choice queries, strong side **replay** gemini-2.0-flash-001's
graded answers; and LLMRouter's CommonsenseQA + OpenBookQA questions, strong side **replay**
qwen2.5-7b-instruct's recorded scores. The sets are small (a few hundred prompts), so every router
is scored by repeated k-fold cross-validation and reported as mean ± sd of APGR and CPT(50%) over
the held-out folds.

Compared: random, oracle, prompt-only routers (TF-IDF LR baseline, MiniLM LR), post-hoc on the
draft text alone, post-hoc with the live signals, the signals-only learned cascade, and the
hand-set cascade signals used directly as scores (lower confidence = escalate).

    python benchmarks/live_posthoc.py [--device qwen1.5b] [--set routerarena|llmrouter]
        [--data-root ../shared/data/outcomes] [--folds 5 --repeats 4]
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich.progress import Progress
from sklearn.model_selection import KFold

from tierlink.bench.curve import routing_curve
from tierlink.bench.live_drafts import DRAFT_FILES, STRONG, draft_path, recorded_outcomes
from tierlink.bench.metrics import apgr, cpt
from tierlink.bench.pair import ModelPair
from tierlink.core.outcomes import read_outcomes
from tierlink.learn.data import PairData
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.train import make_router

Scores = npt.NDArray[np.float64]
PROMPT_ONLY = ("tfidf-logreg (prompt only)", "logreg (prompt only)")
POST_HOC = ("posthoc + live signals", "posthoc-signals (learned cascade)", "cascade: choice share", "cascade: agreement")


def pair_data(device: str, which: str, data_root: Path | None, drafts_file: Path | None = None,
              drop: tuple[str, ...] = ()) -> PairData:
    """Strong side recorded, weak side the drafts (shipped, or `drafts_file`), less the `drop` signals."""
    drafts = read_outcomes(drafts_file or draft_path(device, which))
    drafts = drafts.drop(columns=[f"signal_{name}" for name in drop if f"signal_{name}" in drafts.columns])
    recorded = recorded_outcomes(which, data_root)
    strong = recorded[(recorded["model"] == STRONG[which]) & recorded["prompt_id"].isin(drafts["prompt_id"])]
    drafts = drafts[drafts["prompt_id"].isin(strong["prompt_id"])]
    frame = pd.concat([strong, drafts], ignore_index=True)
    return PairData.from_outcomes(frame, str(drafts["model"].iloc[0]), STRONG[which])


def metrics(data: PairData, scores: Scores) -> tuple[float, float]:
    n = len(data.prompts)
    pair = ModelPair(weak=data.weak, strong=data.strong, prompt_ids=data.prompts.prompt_ids,
                     prompts=np.asarray(data.prompts.texts), tasks=np.asarray([t or "" for t in data.prompts.tasks]),
                     weak_score=data.weak_score, strong_score=data.strong_score,
                     weak_cost=np.zeros(n), strong_cost=np.ones(n), cost_unit="strong calls")
    curve = routing_curve(pair, scores)
    return apgr(curve), cpt(curve, 0.5)


def without_signals(data: PairData) -> PairData:
    return replace(data, prompts=replace(data.prompts, signals=None))


def trained(name: str, strip_signals: bool = False) -> Callable[[PairData, PairData, EmbeddingCache], Scores]:
    def run(train: PairData, test: PairData, cache: EmbeddingCache) -> Scores:
        if strip_signals:
            train, test = without_signals(train), without_signals(test)
        return make_router(name).fit(train, cache).score(test.prompts, cache)
    return run


def signal(name: str, sign: float) -> Callable[[PairData, PairData, EmbeddingCache], Scores]:
    """A hand-set cascade: escalate the least confident drafts first (missing = least confident)."""
    def run(train: PairData, test: PairData, cache: EmbeddingCache) -> Scores:
        values = sign * np.asarray(test.prompts.signals[name])  # type: ignore[index]
        known = values[np.isfinite(values)]
        return np.where(np.isfinite(values), values, (known.max() + 1.0) if known.size else 0.0)
    return run


def main(device: str, which: str, data_root: Path | None, folds: int, repeats: int,
         drafts_file: Path | None = None, drop: tuple[str, ...] = ()) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    data = pair_data(device, which, data_root, drafts_file, drop)
    cache = EmbeddingCache()
    cache.embed(data.prompts.texts)
    rng = np.random.default_rng(0)
    methods: dict[str, Callable[[PairData, PairData, EmbeddingCache], Scores]] = {
        "random": lambda train, test, cache: rng.random(len(test.prompts)),
        "oracle": lambda train, test, cache: test.gain,
        "tfidf-logreg (prompt only)": trained("tfidf-logreg"),
        "logreg (prompt only)": trained("logreg"),
        "posthoc, draft text only": trained("posthoc", strip_signals=True),
        "posthoc + live signals": trained("posthoc"),
        "posthoc-signals (learned cascade)": trained("posthoc-signals"),
        "cascade: mean log-prob": signal("mean_logprob", -1.0),
        "cascade: choice share": signal("choice_share", -1.0),
        "cascade: agreement": signal("agreement", -1.0),
    }
    if data.prompts.signals and "self_check" in data.prompts.signals:
        methods["cascade: self-check"] = signal("self_check", -1.0)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    with Progress(transient=True) as progress:
        task = progress.add_task("cross-validating", total=folds * repeats * len(methods))
        for repeat in range(repeats):
            for train_index, test_index in KFold(folds, shuffle=True, random_state=repeat).split(np.arange(len(data.prompts))):
                train, test = data.subset(train_index), data.subset(test_index)
                for name, method in methods.items():
                    results[name].append(metrics(test, method(train, test, cache)))
                    progress.advance(task)
    weak_acc, strong_acc = data.weak_score.mean(), data.strong_score.mean()
    print(f"live post-hoc routing on {which} ({date.today()}, commit {commit}; weak {data.weak} live, "
          f"{len(data.prompts)} prompts, accuracy {weak_acc:.3f}; strong {STRONG[which]} replay, accuracy {strong_acc:.3f}; "
          f"{repeats}x{folds}-fold CV, mean ± sd over {folds * repeats} held-out folds; signals read: "
          f"{', '.join(sorted(data.prompts.signals or {}))}; drafts {(drafts_file or draft_path(device, which)).name})\n")
    print("| router | APGR | CPT(50%) |")
    print("|---|---|---|")
    for name, values in results.items():
        arr = np.asarray(values)
        print(f"| {name} | {arr[:, 0].mean():.3f} ± {arr[:, 0].std():.3f} | {100 * arr[:, 1].mean():.0f}% ± {100 * arr[:, 1].std():.0f} |")
    print_gains(results)


def print_gains(results: dict[str, list[tuple[float, float]]]) -> None:
    """APGR gains over the best prompt-only router and over random, paired by held-out fold."""
    apgr_of = {name: np.asarray(values)[:, 0] for name, values in results.items()}
    prompt_only = max(PROMPT_ONLY, key=lambda name: apgr_of[name].mean())
    print(f"\nPaired by fold (mean ± sd): gain over the best prompt-only router ({prompt_only}), and over random")
    for name in POST_HOC:
        over_prompt, over_random = apgr_of[name] - apgr_of[prompt_only], apgr_of[name] - apgr_of["random"]
        verdict = "meets" if over_prompt.mean() >= 0.08 else "misses"
        print(f"- {name}: {over_prompt.mean():+.3f} ± {over_prompt.std():.3f} ({verdict} +0.08); "
              f"over random {over_random.mean():+.3f} ± {over_random.std():.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=sorted(DRAFT_FILES), default="qwen1.5b")
    parser.add_argument("--set", dest="which", choices=sorted(STRONG), default="routerarena")
    parser.add_argument("--data-root", type=Path, default=None, help="folder with the full RouterArena set (../shared/data/outcomes)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--drafts", type=Path, default=None, help="drafts CSV instead of the shipped one (e.g. from route extend-drafts)")
    parser.add_argument("--drop", default="", help="comma-separated signals to leave out (an ablation), e.g. self_check")
    args = parser.parse_args()
    main(args.device, args.which, args.data_root, args.folds, args.repeats, args.drafts,
         tuple(name for name in args.drop.split(",") if name))
