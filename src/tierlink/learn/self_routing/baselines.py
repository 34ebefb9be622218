"""The external router a self-routing device is compared with: the best prompt-only router of
`learn/`, trained on which training prompts the device gets wrong, picked on held-out training
prompts by the accuracy it reaches at the call cap, then sending the test prompts it scores highest."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers import ROUTERS
from tierlink.learn.routers.base import Router
from tierlink.learn.self_routing.evaluate import highest
from tierlink.learn.self_routing.tasks import TaskItem

CANDIDATES = ("tfidf-logreg", "logreg", "mlp", "knn")


def outcome_frame(items: Sequence[TaskItem], device_right: Sequence[bool], cloud_right: dict[str, bool]) -> pd.DataFrame:
    """The two tiers' outcomes on `items` as an outcome table (model 'device' and 'cloud')."""
    rows = []
    for item, right in zip(items, device_right, strict=True):
        for model, score in (("device", right), ("cloud", cloud_right[item.prompt_id])):
            rows.append({"prompt_id": item.prompt_id, "prompt": item.prompt, "task": f"level-{item.level}",
                         "model": model, "score": float(score)})
    return pd.DataFrame(rows)


def routed_accuracy(router: Router, items: Sequence[TaskItem], device_right: Sequence[bool], cloud_right: dict[str, bool],
                    ratio: float, cache: EmbeddingCache) -> tuple[float, list[bool]]:
    """Accuracy when the router's top `ratio` share goes to the cloud; and which items went."""
    prompts = Prompts(np.asarray([i.prompt_id for i in items]), [i.prompt for i in items], [f"level-{i.level}" for i in items])
    sent = highest(router.score(prompts, cache).tolist(), ratio)
    right = [cloud_right[i.prompt_id] if s else d for i, d, s in zip(items, device_right, sent, strict=True)]
    return float(np.mean(right)), sent


def best_router(items: Sequence[TaskItem], device_right: Sequence[bool], cloud_right: dict[str, bool], ratio: float,
                seed: int = 0) -> tuple[str, Router, dict[str, float]]:
    """Each candidate fitted on 75% of the training items and scored on the rest at the cap; the
    best one refitted on all of them. Returns its name, the router and every candidate's score."""
    cache = EmbeddingCache()
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    cut = int(0.75 * len(order))
    fit, held = order[:cut], order[cut:]
    pick = lambda idx: ([items[i] for i in idx], [device_right[i] for i in idx])  # noqa: E731
    scores = {}
    for name in CANDIDATES:
        fit_items, fit_right = pick(fit)
        router = ROUTERS[name]().fit(PairData.from_outcomes(outcome_frame(fit_items, fit_right, cloud_right), "device", "cloud"), cache)
        scores[name] = routed_accuracy(router, *pick(held), cloud_right, ratio, cache)[0]
    name = max(scores, key=lambda n: scores[n])
    router = ROUTERS[name]().fit(PairData.from_outcomes(outcome_frame(items, device_right, cloud_right), "device", "cloud"), cache)
    return name, router, scores
