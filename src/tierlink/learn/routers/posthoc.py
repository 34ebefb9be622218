"""Post-hoc routers: decide after reading the device's draft (the learned cascade).

`posthoc` sees everything a prompt-only router sees, plus the draft's MiniLM embedding, its
text features, its length in tokens and, where they were collected, the live draft signals
(llama.cpp log-probabilities and entropies, agreement of k samples; `route collect-drafts`).
Recorded outcomes give it the weak model's answers (RouteLLM GSM8K and MT-Bench, RouterArena)
or their lengths (ZeroEval). `posthoc-signals` reads only the draft's length and signals: a
cascade whose thresholds are learned instead of hand-set.
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
    """Reads the device's draft (and live signals where collected) to decide after drafting."""

    name: ClassVar[str] = "posthoc"
    features: ClassVar[str] = "prompt features + draft embedding, text features, length and live signals where collected"
    needs_draft: ClassVar[bool] = True
    reads_prompt: ClassVar[bool] = True  # False: draft length and signals only

    def __init__(self, c: float = 0.5) -> None:
        self.featurizer = Featurizer()
        self.model = LogisticRegression(C=c, max_iter=500, class_weight="balanced", solver="newton-cholesky")
        self.use_text = True
        self.signal_names: list[str] = []
        self.fill: npt.NDArray[np.float64] = np.zeros(0)
        self.mean: npt.NDArray[np.float64] = np.zeros(0)
        self.std: npt.NDArray[np.float64] = np.ones(0)

    def fit(self, data: PairData, cache: EmbeddingCache) -> PostHocRouter:
        """Fit on prompts plus drafts (a DataError if there are none); missing signals are mean-filled."""
        prompts = data.prompts
        if prompts.drafts is None and prompts.draft_tokens is None and prompts.signals is None:
            raise DataError("post-hoc router", "the outcome table has no drafts (weak-model responses, output lengths or signals)",
                            "train it on a table whose weak model has a response or output_tokens column, "
                            "or collect device drafts with `tierlink route collect-drafts`")
        self.use_text = self.reads_prompt and prompts.drafts is not None
        self.signal_names = sorted(prompts.signals) if prompts.signals else []
        if self.reads_prompt:
            self.featurizer = self.featurizer.fit(prompts)
        raw = self._draft_raw(prompts)
        with np.errstate(all="ignore"):
            fill = np.nanmean(np.where(np.isfinite(raw), raw, np.nan), axis=0)
        self.fill = np.nan_to_num(fill)
        filled = self._filled(raw)
        self.mean, self.std = filled.mean(axis=0), filled.std(axis=0) + 1e-6
        self.model.fit(self._x(prompts, cache), needs_strong(data))
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """P(strong model needed) per prompt; a DataError if drafts or trained-on signals are absent."""
        if prompts.drafts is None and prompts.draft_tokens is None and prompts.signals is None:
            raise DataError("post-hoc router", "no drafts to read", "give the device's draft (a `draft` column, or the live draft)")
        absent = [n for n in self.signal_names if prompts.signals is None or n not in prompts.signals]
        if absent:
            raise DataError("post-hoc router", f"it was trained on live draft signals the prompts lack ({', '.join(absent)})",
                            "collect them with `tierlink route collect-drafts`, or serve the router in a session (it draws them live)")
        classes = list(self.model.classes_)
        if len(classes) == 1:
            return np.full(len(prompts), float(classes[0]))
        return self.model.predict_proba(self._x(prompts, cache))[:, classes.index(1)]

    def _draft_raw(self, prompts: Prompts) -> npt.NDArray[np.float64]:
        drafts = [d or "" for d in (prompts.drafts or [""] * len(prompts))]
        tokens = prompts.draft_tokens or [len(d) / 4 for d in drafts]
        parts = [np.log1p(np.asarray(tokens, dtype=np.float64))[:, None]]
        if self.use_text:
            parts.append(text_features(drafts).astype(np.float64))
        signals = prompts.signals or {}
        parts.extend(np.asarray(signals[name], dtype=np.float64)[:, None] for name in self.signal_names)
        return np.hstack(parts)

    def _filled(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Missing signals (no letter in the draft, no samples) take the training mean."""
        return np.where(np.isfinite(raw), raw, self.fill)

    def _x(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float32]:
        parts = [((self._filled(self._draft_raw(prompts)) - self.mean) / self.std).astype(np.float32)]
        if self.reads_prompt:
            parts.insert(0, self.featurizer.transform(prompts, cache))
        if self.use_text:
            parts.append(cache.embed([d or "" for d in (prompts.drafts or [])]))
        return np.hstack(parts).astype(np.float32)


class DraftSignalRouter(PostHocRouter):
    """The learned cascade: only the draft's length and live signals, no text at all."""

    name: ClassVar[str] = "posthoc-signals"
    features: ClassVar[str] = "draft length + live draft signals (log-probs, entropy, agreement)"
    reads_prompt: ClassVar[bool] = False

    def __init__(self, c: float = 1.0) -> None:
        super().__init__(c)
