"""Train a router on recorded outcomes (optionally choosing the best by cross-validation), and
score prompts with a saved one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold

from tierlink import __version__
from tierlink.bench.curve import routing_curve
from tierlink.bench.metrics import apgr
from tierlink.bench.pair import ModelPair
from tierlink.core.errors import DataError
from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import ALL_ROUTERS, POSTHOC_ROUTERS, ROUTERS
from tierlink.learn.routers.base import Router, RouterMeta, load_router, needs_strong

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def make_router(name: str) -> Router:
    """A fresh, untrained router by name; a DataError listing the names otherwise."""
    if name not in ALL_ROUTERS:
        raise DataError(f"router '{name}'", "unknown router", f"use one of: best, {', '.join(ALL_ROUTERS)}")
    return ALL_ROUTERS[name]()


def apgr_of(data: PairData, scores: npt.NDArray[np.float64]) -> float:
    """APGR of `scores` on the prompts of `data` (exact curve, normalised cost)."""
    n = len(data.prompts)
    pair = ModelPair(
        weak=data.weak, strong=data.strong, prompt_ids=data.prompts.prompt_ids,
        prompts=np.asarray(data.prompts.texts), tasks=np.asarray([t or "" for t in data.prompts.tasks]),
        weak_score=data.weak_score, strong_score=data.strong_score,
        weak_cost=np.zeros(n), strong_cost=np.ones(n), cost_unit="strong calls",
    )
    return apgr(routing_curve(pair, scores))


SMALL_TABLE = 2000  # below this many prompts one k-fold split is too noisy to pick a router by


def cv_repeats(prompts: int) -> int:
    """How many times k-fold CV is repeated on different shuffles: 3 for a small table, else 1."""
    return 3 if prompts < SMALL_TABLE else 1


def cross_validate(name: str, data: PairData, cache: EmbeddingCache, folds: int = 3, seed: int = 0,
                   repeats: int | None = None) -> float:
    """Mean held-out APGR of router `name` over k folds of the training prompts, repeated on
    `repeats` shuffles (default `cv_repeats`: a small table's single split is mostly noise);
    folds are stratified on whether the strong model was needed, so each fold sees both outcomes."""
    results = []
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats or cv_repeats(len(data.prompts)),
                                       random_state=seed)
    for train_index, test_index in splitter.split(np.arange(len(data.prompts)), needs_strong(data)):
        router = make_router(name).fit(data.subset(train_index), cache)
        held_out = data.subset(test_index)
        results.append(apgr_of(held_out, router.score(held_out.prompts, cache)))
    return float(np.mean(results))


def _check_learnable(data: PairData, least: int) -> None:
    """Refuse a table where one model always wins: every classifier needs both outcomes."""
    wins = int(needs_strong(data).sum())
    for count, side, fix in ((wins, "the strong model beats the weak one", "always use the weak model"),
                             (len(data.prompts) - wins, "the weak model is as good as the strong one",
                              "always use the strong model")):
        if count < least:
            raise DataError(f"outcomes of {data.weak} and {data.strong}",
                            f"{side} on {count} of {len(data.prompts)} training prompts (a router needs {least})",
                            f"give more prompts where the two models differ, or {fix}")


def train_router(
    frame: pd.DataFrame, weak: str, strong: str, name: str, out: Path,
    cache: EmbeddingCache | None = None, progress: Progress | None = None, folds: int = 3, seed: int = 0,
) -> RouterMeta:
    """Fit router `name` (or the cross-validated `best`) on every prompt of `frame`; save it to `out`."""
    cache = cache or EmbeddingCache()
    data = PairData.from_outcomes(frame, weak, strong)
    _check_learnable(data, folds if name == "best" else 1)
    report = progress or (lambda stage, done, total: None)
    total = len(data.prompts)
    report("embedding prompts", 0, total)
    done = 0

    def embedded(n: int) -> None:
        nonlocal done
        done += n
        report("embedding prompts", done, total)

    cache.embed(data.prompts.texts, progress=embedded)
    scores: dict[str, float] = {}
    chosen = name
    if name == "best":
        has_drafts = data.prompts.drafts is not None or data.prompts.draft_tokens is not None
        candidates = [*ROUTERS, *(POSTHOC_ROUTERS if has_drafts else [])]
        for index, candidate in enumerate(candidates):
            report(f"cross-validating {candidate}", index, len(candidates))
            scores[candidate] = cross_validate(candidate, data, cache, folds, seed)
        chosen = max(scores, key=lambda k: scores[k])
    report(f"fitting {chosen}", 0, 1)
    router = make_router(chosen).fit(data, cache)
    meta = RouterMeta(router=chosen, weak=weak, strong=strong, train_prompts=total, features=router.features,
                      tierlink_version=__version__, cv_apgr=scores, needs_draft=router.needs_draft,
                      **_draft_collection(frame, weak, router))
    router.save(out, meta)
    report(f"fitting {chosen}", 1, 1)
    return meta


def _draft_collection(frame: pd.DataFrame, weak: str, router: Router) -> dict[str, Any]:
    """How the live signals a post-hoc router learned from were drawn, so a session draws them alike."""
    names = list(getattr(router, "signal_names", []))
    if not names:
        return {}
    rows = frame[frame["model"] == weak]
    found: dict[str, Any] = {"signals": names}
    for column, key in (("samples", "samples"), ("max_tokens", "draft_max_tokens")):
        if column in rows.columns and rows[column].notna().any():
            found[key] = int(rows[column].max())
    return found


def score_prompts(model_dir: Path, prompts: Prompts, cache: EmbeddingCache | None = None) -> npt.NDArray[np.float64]:
    """Scores of a saved router on `prompts`: the input `tierlink bench curve` evaluates."""
    router, _ = load_router(model_dir)
    return router.score(prompts, cache or EmbeddingCache())
