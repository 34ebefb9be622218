"""Prompt-only routers built on scikit-learn: TF-IDF logistic regression (the baseline),
logistic regression, MLP and kNN on MiniLM embeddings plus text features and task."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier

from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.routers.base import Router, needs_strong


def _positive_probability(model: Any, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    if len(model.classes_) == 1:  # a training set where one side always wins
        return np.full(len(x), float(model.classes_[0]))
    return model.predict_proba(x)[:, list(model.classes_).index(1)]


class TfidfLogReg(Router):
    """Word and bigram TF-IDF with logistic regression: the baseline a router must beat."""

    name: ClassVar[str] = "tfidf-logreg"
    features: ClassVar[str] = "TF-IDF words and bigrams"

    def __init__(self, c: float = 1.0) -> None:
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=50_000, sublinear_tf=True)
        self.model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")

    def fit(self, data: PairData, cache: EmbeddingCache) -> TfidfLogReg:
        """Fit the TF-IDF vocabulary, then the classifier on whether the strong model was needed."""
        self.model.fit(self.vectorizer.fit_transform(data.prompts.texts), needs_strong(data))
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """P(strong model needed) per prompt, from its TF-IDF vector."""
        return _positive_probability(self.model, self.vectorizer.transform(prompts.texts))


class FeatureRouter(Router):
    """Shared fit/score for routers on Featurizer output."""

    def __init__(self) -> None:
        self.featurizer = Featurizer()
        self.model: Any = None

    def _x(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float32]:
        return self.featurizer.transform(prompts, cache)


class LogRegRouter(FeatureRouter):
    """Logistic regression on the Featurizer's features, classes balanced."""

    name: ClassVar[str] = "logreg"

    def __init__(self, c: float = 0.5) -> None:
        super().__init__()
        self.model = LogisticRegression(C=c, max_iter=200, class_weight="balanced", solver="newton-cholesky")

    def fit(self, data: PairData, cache: EmbeddingCache) -> LogRegRouter:
        """Fit the featurizer, then the classifier on whether the strong model was needed."""
        self.featurizer = self.featurizer.fit(data.prompts)
        self.model.fit(self._x(data.prompts, cache), needs_strong(data))
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """P(strong model needed) per prompt, from the logistic model."""
        return _positive_probability(self.model, self._x(prompts, cache))


class MLPRouter(FeatureRouter):
    """A one-hidden-layer MLP on the Featurizer's features, with early stopping."""

    name: ClassVar[str] = "mlp"

    def __init__(self, hidden: int = 128, seed: int = 0) -> None:
        super().__init__()
        self.model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-3, early_stopping=True,
                                   max_iter=300, random_state=seed)

    def fit(self, data: PairData, cache: EmbeddingCache) -> MLPRouter:
        """Fit the featurizer, then the MLP on whether the strong model was needed."""
        self.featurizer = self.featurizer.fit(data.prompts)
        self.model.fit(self._x(data.prompts, cache), needs_strong(data))
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """P(strong model needed) per prompt, from the MLP."""
        return _positive_probability(self.model, self._x(prompts, cache))


class KNNRouter(FeatureRouter):
    """Mean strong-minus-weak gain of the k most similar training prompts (cosine, embeddings)."""

    name: ClassVar[str] = "knn"
    features: ClassVar[str] = "MiniLM embedding"

    def __init__(self, k: int = 25) -> None:
        super().__init__()
        self.featurizer = Featurizer(use_text=False, use_task=False)
        self.model = KNeighborsRegressor(n_neighbors=k, metric="cosine", weights="distance")

    def fit(self, data: PairData, cache: EmbeddingCache) -> KNNRouter:
        """Fit the featurizer and index the training prompts with their gains (k capped at their count)."""
        self.featurizer = self.featurizer.fit(data.prompts)
        self.model.set_params(n_neighbors=min(self.model.n_neighbors, len(data.prompts)))
        self.model.fit(self._x(data.prompts, cache), data.gain)
        return self

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """Mean gain of each prompt's nearest training prompts (a gain, not a probability)."""
        return np.asarray(self.model.predict(self._x(prompts, cache)), dtype=np.float64)
