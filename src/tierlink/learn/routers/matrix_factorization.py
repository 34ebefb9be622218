"""Matrix factorisation router (RouteLLM's MF): a bilinear score between a prompt and a model.

s(m, x) = w · (v_m ⊙ (W x)), and P(model a beats model b on x) = σ(s(a, x) - s(b, x)).
It learns from every pair of models in the outcome table that disagree on a prompt, not only
from the weak/strong pair, which is where it gains over a plain classifier.
"""

from __future__ import annotations

from itertools import combinations
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.routers.base import Router

MAX_PAIRS_PER_PROMPT = 12


class MatrixFactorizationRouter(Router):
    """RouteLLM's MF router: learns from every disagreeing pair of models in the table."""

    name: ClassVar[str] = "mf"

    def __init__(self, dim: int = 64, epochs: int = 30, lr: float = 3e-3, seed: int = 0) -> None:
        self.featurizer = Featurizer(use_task=False)
        self.dim, self.epochs, self.lr, self.seed = dim, epochs, lr, seed
        self.models: list[str] = []
        self.state: dict[str, npt.NDArray[np.float32]] = {}
        self.weak = self.strong = ""

    def fit(self, data: PairData, cache: EmbeddingCache) -> MatrixFactorizationRouter:
        """Train projection, model vectors and head on pairwise wins (torch); no pairs: stays neutral."""
        import torch

        torch.manual_seed(self.seed)
        self.weak, self.strong = data.weak, data.strong
        self.featurizer = self.featurizer.fit(data.prompts)
        table = data.table.pivot_table(index="prompt_id", columns="model", values="score", aggfunc="mean")
        table = table.reindex(data.prompts.prompt_ids)
        self.models = [str(m) for m in table.columns]
        x_all = torch.tensor(self.featurizer.transform(data.prompts, cache))
        rows, first, second, labels = self._pairs(table.to_numpy(), np.random.default_rng(self.seed))
        if not rows:
            self.state = {}
            return self
        proj = torch.nn.Linear(x_all.shape[1], self.dim, bias=False)
        model_vectors = torch.nn.Embedding(len(self.models), self.dim)
        head = torch.nn.Linear(self.dim, 1, bias=False)
        params = [*proj.parameters(), *model_vectors.parameters(), *head.parameters()]
        optimiser = torch.optim.Adam(params, lr=self.lr, weight_decay=1e-5)
        r, a, b, y = (torch.tensor(v) for v in (rows, first, second, labels))
        for _ in range(self.epochs):
            order = torch.randperm(len(r))
            for start in range(0, len(order), 1024):
                batch = order[start:start + 1024]
                z = proj(x_all[r[batch]])
                logit = head(model_vectors(a[batch]) * z - model_vectors(b[batch]) * z).squeeze(-1)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        self.state = {
            "proj": proj.weight.detach().numpy().T.copy(),
            "models": model_vectors.weight.detach().numpy().copy(),
            "head": head.weight.detach().numpy().ravel().copy(),
        }
        return self

    def _pairs(self, scores: npt.NDArray[np.float64], rng: np.random.Generator) -> tuple[list[int], list[int], list[int], list[float]]:
        rows: list[int] = []
        first: list[int] = []
        second: list[int] = []
        labels: list[float] = []
        for i, row in enumerate(scores):
            pairs = [(a, b) for a, b in combinations(range(len(row)), 2)
                     if not np.isnan(row[a]) and not np.isnan(row[b]) and row[a] != row[b]]
            if len(pairs) > MAX_PAIRS_PER_PROMPT:
                pairs = [pairs[j] for j in rng.choice(len(pairs), MAX_PAIRS_PER_PROMPT, replace=False)]
            for a, b in pairs:
                rows.append(i)
                first.append(a)
                second.append(b)
                labels.append(float(row[a] > row[b]))
        return rows, first, second, labels

    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """P(strong beats weak) per prompt; 0.5 everywhere if fit found no disagreeing pairs."""
        if not self.state:
            return np.full(len(prompts), 0.5)
        z = self.featurizer.transform(prompts, cache) @ self.state["proj"]
        strong = self.state["models"][self.models.index(self.strong)]
        weak = self.state["models"][self.models.index(self.weak)]
        logit = ((strong - weak) * z) @ self.state["head"]
        return np.asarray(expit(logit.astype(np.float64)), dtype=np.float64)
