"""The trained-router interface: fit on a weak/strong pair, score prompts, save and load.

A score is higher when the strong model helps more; `tierlink bench curve` evaluates any
router from those scores alone.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from tierlink.core.errors import DataError
from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache

MODEL_FILE = "router.joblib"
META_FILE = "router.json"


class RouterMeta(BaseModel):
    """What a saved router was trained on (written next to the model)."""

    router: str
    weak: str
    strong: str
    train_prompts: int
    features: str
    tierlink_version: str
    cv_apgr: dict[str, float] = {}
    threshold: float | None = None
    threshold_target: str | None = None
    needs_draft: bool = False
    signals: list[str] = []  # live draft signals it reads (post-hoc routers trained on collected drafts)
    samples: int = 0  # sampled drafts per prompt those signals were collected with (agreement)
    draft_max_tokens: int | None = None  # the draft length cap they were collected with


class Router(ABC):
    """A prompt-only router."""

    name: ClassVar[str]
    features: ClassVar[str] = "MiniLM embedding + text features + task"
    needs_draft: ClassVar[bool] = False  # post-hoc routers read the device's draft

    @abstractmethod
    def fit(self, data: PairData, cache: EmbeddingCache) -> Router:
        """Learn from recorded outcomes of the pair (and, for MF, of every model in the table)."""

    @abstractmethod
    def score(self, prompts: Prompts, cache: EmbeddingCache) -> npt.NDArray[np.float64]:
        """One score per prompt; higher = more benefit from the strong model."""

    def save(self, directory: Path, meta: RouterMeta) -> None:
        """Write the router (joblib) and its meta (JSON) where `load_router` reads them."""
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, directory / MODEL_FILE)
        (directory / META_FILE).write_text(meta.model_dump_json(indent=2), encoding="utf-8")


def load_router(directory: Path) -> tuple[Router, RouterMeta]:
    """A router saved by `tierlink route train` (only load directories you trust: joblib pickles)."""
    model, meta = directory / MODEL_FILE, directory / META_FILE
    if not model.is_file() or not meta.is_file():
        raise DataError(str(directory), "not a trained router directory", f"it must hold {MODEL_FILE} and {META_FILE} (see `tierlink route train`)")
    router: Any = joblib.load(model)
    if not isinstance(router, Router):
        raise DataError(str(model), "does not hold a tierlink router", "train one with `tierlink route train`")
    return router, RouterMeta(**json.loads(meta.read_text(encoding="utf-8")))


def needs_strong(data: PairData) -> npt.NDArray[np.int64]:
    """Binary label: 1 where the strong model scored higher than the weak one."""
    return (data.gain > 1e-9).astype(np.int64)
