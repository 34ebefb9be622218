"""Post-hoc router: decides after reading the device's draft (the learned cascade).

Features: everything a prompt-only router sees, plus the draft's MiniLM embedding, its text
features and its length in tokens. Trained where the recorded outcomes carry the weak model's
answers (RouteLLM GSM8K and MT-Bench, RouterArena) or at least their lengths (ZeroEval); live,
the draft comes from the device model in the session.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from tierlink.core.errors import DataError
from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.routers.base import Router, needs_strong
from tierlink.learn.text_features import text_features


class PostHocRouter(Router):
    name: ClassVar[str] = "posthoc"
    features: ClassVar[str] = "prompt features + draft embedding, text features and length"
    needs_draft: ClassVar[bool] = True

    def __init__(self, c: float = 0.5) -> None:
        self.featurizer = Featurizer()
        self.model = LogisticRegression(C=c, max_iter=200, class_weight="balanced", solver="newton-cholesky")
        self.use_text = True
        self.mean: npt.NDArray[np.float64] = np.zeros(0)
        self.std: npt.NDArray[np.float64] = np.ones(0)

    def fit(self, data: PairData, cache: EmbeddingCache) -> PostHocRouter:
        prompts = data.prompts
        if prompts.drafts is None and prompts.draft_tokens is None:
            raise DataError("post-hoc router", "the outcome table has no drafts (weak-model responses or output lengths)",
                            "train it on a table whose weak model has a response or output_tokens column")
        self.use_text = prompts.drafts is not None
        self.featurizer = self.featurizer.fit(prompts)
        raw = self._draft_raw(prompts, cache)
        self.mean, self.std = raw.mean(axis=0), raw.std(axis=0) + 1e-6
        self.model.fit(self._x(prompts, cache), needs_strong(data))
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        if prompts.drafts is None and prompts.draft_tokens is None:
            raise DataError("post-hoc router", "no drafts to read", "give the device's draft (a `draft` column, or the live draft)")
        classes = list(self.model.classes_)
        if len(classes) == 1:
            return np.full(len(prompts), float(classes[0]))
        return self.model.predict_proba(self._x(prompts, cache))[:, classes.index(1)]

    def _draft_raw(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        drafts = [d or "" for d in (prompts.drafts or [""] * len(prompts))]
        tokens = prompts.draft_tokens or [len(d) / 4 for d in drafts]
        parts = [np.log1p(np.asarray(tokens, dtype=np.float64))[:, None]]
        if self.use_text:
            parts.append(text_features(drafts).astype(np.float64))
        return np.hstack(parts)

    def _x(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float32]:
        draft = (self._draft_raw(prompts, cache) - self.mean) / self.std
        parts = [self.featurizer.transform(prompts, cache), draft.astype(np.float32)]
        if self.use_text:
            parts.append(cache.embed([d or "" for d in (prompts.drafts or [])]))
        return np.hstack(parts).astype(np.float32)
