"""Prompt features for routers: MiniLM embedding, cheap text features, one-hot task label."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.text_features import text_features


class Featurizer(BaseModel):
    """Fitted state (text-feature scaling, known tasks) is kept so scoring matches training."""

    use_embedding: bool = True
    use_text: bool = True
    use_task: bool = True
    mean: list[float] = []
    std: list[float] = []
    tasks: list[str] = []

    def fit(self, prompts: Prompts) -> Featurizer:
        """A copy fitted on `prompts` (text-feature scaling, known tasks); this one is unchanged."""
        raw = text_features(prompts.texts)
        return self.model_copy(update={
            "mean": raw.mean(axis=0).tolist(),
            "std": (raw.std(axis=0) + 1e-6).tolist(),
            "tasks": sorted({t for t in prompts.tasks if t is not None}),
        })

    def transform(self, prompts: Prompts, cache: EmbeddingCache | None = None) -> npt.NDArray[np.float32]:
        """Features in the fitted layout (embedding, scaled text, task one-hot; unseen tasks all 0)."""
        parts = []
        if self.use_embedding:
            parts.append((cache or EmbeddingCache()).embed(prompts.texts))
        if self.use_text:
            parts.append((text_features(prompts.texts) - np.asarray(self.mean)) / np.asarray(self.std))
        if self.use_task and self.tasks:
            index = {t: i for i, t in enumerate(self.tasks)}
            onehot = np.zeros((len(prompts), len(self.tasks)), dtype=np.float32)
            for row, task in enumerate(prompts.tasks):
                if task in index:
                    onehot[row, index[task]] = 1.0
            parts.append(onehot)
        return np.hstack(parts).astype(np.float32) if parts else np.zeros((len(prompts), 0), np.float32)
