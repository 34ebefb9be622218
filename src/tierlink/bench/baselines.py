"""Routers that need no training, by name: the references every learned router must beat.

Each maps a ModelPair to one score per prompt (higher = send to the strong model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tierlink.bench.pair import FloatArray, ModelPair
from tierlink.core.errors import DataError

Baseline = Callable[[ModelPair, int], FloatArray]


def random_scores(pair: ModelPair, seed: int) -> FloatArray:
    """Uniform random scores: one realisation of the random router (seeded)."""
    return np.random.default_rng(seed).random(len(pair))


def always_weak(pair: ModelPair, seed: int) -> FloatArray:
    """Never worth the strong model: every prompt scores 0 (a single operating point, share 0)."""
    return np.zeros(len(pair))


def always_strong(pair: ModelPair, seed: int) -> FloatArray:
    """Always worth it: every prompt scores 1. As a curve it ties every prompt, like random."""
    return np.ones(len(pair))


def oracle(pair: ModelPair, seed: int) -> FloatArray:
    """Knows the outcomes: strong-minus-weak score gain, cheaper strong calls first among ties."""
    gain = pair.strong_score - pair.weak_score
    extra = pair.strong_cost - pair.weak_cost
    scale = np.abs(extra).max() or 1.0
    return gain - 1e-9 * extra / scale


def prompt_length(pair: ModelPair, seed: int) -> FloatArray:
    """Longer prompts are harder: the character count (a common zero-training heuristic)."""
    return np.array([len(p) for p in pair.prompts], dtype=float)


FIXED_SHARE = {"always-weak": 0.0, "always-strong": 1.0}  # policies that are one point, not a curve

BASELINES: dict[str, Baseline] = {
    "random": random_scores,
    "always-weak": always_weak,
    "always-strong": always_strong,
    "oracle": oracle,
    "prompt-length": prompt_length,
}


def baseline(name: str) -> Baseline:
    """The zero-training router called `name`; a DataError listing the known ones otherwise."""
    if name not in BASELINES:
        raise DataError(f"router '{name}'", "unknown baseline router", f"use one of {', '.join(BASELINES)}")
    return BASELINES[name]
