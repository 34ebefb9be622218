"""Hybrid-LLM's router (Ding et al., ICLR 2024): probabilistic labels with a relaxation t.

The label is whether the weak model is good enough: y = 1[q_weak >= q_strong - t]. The data
transformation picks t so the labels are as balanced as possible (maximising the average
pairwise label difference), which keeps the classifier from collapsing onto one class when the
strong model wins rarely. The routing score is 1 - P(weak good enough).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.routers.base import Router


def balanced_relaxation(gain: npt.NDArray[np.float64], grid: int = 50) -> float:
    """The t in [0, max gain] whose labels 1[gain <= t] are closest to half positive."""
    top = float(max(0.0, gain.max())) if len(gain) else 0.0
    candidates = np.linspace(0.0, top, grid) if top > 0 else np.array([0.0])
    balance = [abs(float(np.mean(gain <= t)) - 0.5) for t in candidates]
    return float(candidates[int(np.argmin(balance))])


class HybridLLMRouter(Router):
    """Hybrid-LLM's router: P(weak good enough), its relaxation t chosen to balance the labels."""

    name: ClassVar[str] = "hybrid-llm"

    def __init__(self, c: float = 0.5) -> None:
        self.featurizer = Featurizer()
        self.model = LogisticRegression(C=c, max_iter=200, solver="newton-cholesky")
        self.relaxation = 0.0

    def fit(self, data: PairData, cache: EmbeddingCache) -> HybridLLMRouter:
        """Pick the relaxation t, then fit P(weak within t of strong) on the features."""
        self.featurizer = self.featurizer.fit(data.prompts)
        self.relaxation = balanced_relaxation(data.gain)
        weak_good_enough = (data.gain <= self.relaxation + 1e-12).astype(np.int64)
        self.model.fit(self.featurizer.transform(data.prompts, cache), weak_good_enough)
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """1 - P(weak good enough); a constant when training saw only one class."""
        x = self.featurizer.transform(prompts, cache)
        classes = list(self.model.classes_)
        if len(classes) == 1:
            return np.full(len(prompts), 1.0 - float(classes[0]))
        return 1.0 - self.model.predict_proba(x)[:, classes.index(1)]
