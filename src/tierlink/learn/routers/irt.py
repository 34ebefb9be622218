"""An item-response router: every model's recorded outcomes teach one prompt difficulty.

P(model m is right on prompt x) = σ(θ_m + θ_{m,task} − β(x)), with the difficulty β(x) linear in
the prompt's features (MiniLM embedding, text features, task, and word/bigram TF-IDF). It is one
logistic regression over every (prompt, model) cell of the outcome table, so a table of 42 models
gives 42 labels per prompt where a pair classifier has one noisy label (strong beat weak or not).
The route score is the expected gain σ(θ_s − β) − σ(θ_w − β): it is highest where the weak model
likely fails and the strong one likely succeeds, and falls again for prompts both will miss.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.routers.base import Router


def unit_scores(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Scores on [0, 1] (a table graded 1-10 is rescaled by its own range)."""
    finite = values[~np.isnan(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if low >= 0 and high <= 1:
        return values
    return (values - low) / max(high - low, 1e-9)


class IrtRouter(Router):
    """Difficulty from every model's outcomes (a Rasch model with feature-predicted difficulty)."""

    name: ClassVar[str] = "irt"
    features: ClassVar[str] = "MiniLM embedding + text features + task + TF-IDF; labels from every model in the table"

    def __init__(self, c: float = 0.5, tfidf: bool = True) -> None:
        self.featurizer = Featurizer()
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20_000, sublinear_tf=True) if tfidf else None
        self.model = LogisticRegression(C=c, max_iter=1000)
        self.models: list[str] = []
        self.tasks: list[str] = []
        self.weak = self.strong = ""

    def _prompt_block(self, prompts: Prompts, cache: EmbeddingCache) -> sp.csr_matrix:
        dense = sp.csr_matrix(self.featurizer.transform(prompts, cache))
        if self.vectorizer is None:
            return dense
        return sp.hstack([dense, self.vectorizer.transform(prompts.texts)], format="csr")

    def _model_block(self, model_index: npt.NDArray[np.int64], tasks: list[str | None]) -> sp.csr_matrix:
        """One-hot model skill and model-by-task skill for each row."""
        rows = len(model_index)
        skill = sp.csr_matrix((np.ones(rows), (np.arange(rows), model_index)), shape=(rows, len(self.models)))
        if not self.tasks:
            return skill
        task_of = {t: i for i, t in enumerate(self.tasks)}
        hits = [(r, int(m) * len(self.tasks) + task_of[t]) for r, (m, t) in enumerate(zip(model_index, tasks, strict=True))
                if t in task_of]
        cols = sp.csr_matrix((np.ones(len(hits)), ([h[0] for h in hits], [h[1] for h in hits])),
                             shape=(rows, len(self.models) * len(self.tasks)))
        return sp.hstack([skill, cols], format="csr")

    def fit(self, data: PairData, cache: EmbeddingCache) -> IrtRouter:
        """One logistic regression over every recorded (prompt, model) outcome of the table."""
        self.weak, self.strong = data.weak, data.strong
        self.featurizer = self.featurizer.fit(data.prompts)
        if self.vectorizer is not None:
            self.vectorizer.fit(data.prompts.texts)
        table = data.table.pivot_table(index="prompt_id", columns="model", values="score", aggfunc="mean")
        table = table.reindex(data.prompts.prompt_ids)
        self.models = [str(m) for m in table.columns]
        self.tasks = sorted({t for t in data.prompts.tasks if t is not None})
        scores = unit_scores(table.to_numpy(dtype=np.float64))
        prompt_row, model_col = np.nonzero(~np.isnan(scores))
        y = scores[prompt_row, model_col]
        x = sp.hstack([-self._prompt_block(data.prompts, cache)[prompt_row],
                       self._model_block(model_col, [data.prompts.tasks[i] for i in prompt_row])], format="csr")
        binary = np.isin(y, (0.0, 1.0)).all()
        if binary:
            self.model.fit(x, y.astype(int))
        else:  # graded scores: each cell is a right and a wrong label weighted by the score
            self.model.fit(sp.vstack([x, x]), np.r_[np.ones(len(y), int), np.zeros(len(y), int)], sample_weight=np.r_[y, 1 - y])
        return self

    def _probability(self, prompts: Prompts, model: str, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        index = np.full(len(prompts), self.models.index(model))
        x = sp.hstack([-self._prompt_block(prompts, cache), self._model_block(index, list(prompts.tasks))], format="csr")
        return np.asarray(expit(x @ self.model.coef_.ravel() + self.model.intercept_[0]), dtype=np.float64)

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """Expected gain of the strong model over the weak one on each prompt."""
        return self._probability(prompts, self.strong, cache) - self._probability(prompts, self.weak, cache)
