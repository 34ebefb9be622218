"""Trained routers by name."""

from __future__ import annotations

from tierlink.learn.routers.base import Router
from tierlink.learn.routers.classifiers import KNNRouter, LogRegRouter, MLPRouter, TfidfLogReg
from tierlink.learn.routers.hybrid_llm import HybridLLMRouter
from tierlink.learn.routers.irt import IrtRouter
from tierlink.learn.routers.matrix_factorization import MatrixFactorizationRouter
from tierlink.learn.routers.posthoc import DraftSignalRouter, PostHocRouter

ROUTERS: dict[str, type[Router]] = {
    cls.name: cls
    for cls in (TfidfLogReg, LogRegRouter, MLPRouter, KNNRouter, MatrixFactorizationRouter, HybridLLMRouter, IrtRouter)
}
# Routers that read the device's draft: trained only where the outcomes carry drafts.
POSTHOC_ROUTERS: dict[str, type[Router]] = {cls.name: cls for cls in (PostHocRouter, DraftSignalRouter)}
ALL_ROUTERS: dict[str, type[Router]] = {**ROUTERS, **POSTHOC_ROUTERS}
