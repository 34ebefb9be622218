"""Calibration: turn a target into a score threshold on held-in data, then measure the miss.

Targets: the share of turns sent to the strong model (`share`), mean dollars per query
(`dollars`), or a performance gap recovered to reach (`pgr`). The threshold is set on held-in
prompts (the training split) and the same threshold is read on the test split, so the report
says how far the target was missed on data the threshold never saw.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from tierlink.bench.pair import ModelPair
from tierlink.core.errors import DataError

TargetKind = Literal["share", "dollars", "pgr"]


class Calibration(BaseModel):
    """A target, its threshold set on held-in prompts, and what it achieved there and on test."""

    target: TargetKind
    value: float
    threshold: float
    held_in: float  # the achieved value on the held-in prompts
    test: float | None = None  # the achieved value on the test prompts, with the same threshold

    @property
    def miss(self) -> float | None:
        """Test value minus the target: how far the threshold missed on unseen prompts; None untested."""
        return None if self.test is None else self.test - self.value


def parse_target(text: str) -> tuple[TargetKind, float]:
    """'share:0.3', 'dollars:0.002' or 'pgr:0.8'."""
    kind, _, value = text.partition(":")
    if kind not in ("share", "dollars", "pgr") or not value:
        raise DataError(f"target '{text}'", "not a calibration target", "write share:0.3, dollars:0.002 or pgr:0.8")
    try:
        return kind, float(value)  # type: ignore[return-value]
    except ValueError as exc:
        raise DataError(f"target '{text}'", f"'{value}' is not a number", "write e.g. share:0.3") from exc


def achieved(kind: TargetKind, pair: ModelPair, scores: npt.NDArray[np.float64], threshold: float) -> float:
    """Share, mean dollars or PGR when prompts scoring >= threshold go to the strong model."""
    strong = scores >= threshold
    if kind == "share":
        return float(strong.mean())
    if kind == "dollars":
        return float(np.where(strong, pair.strong_cost, pair.weak_cost).mean())
    gap = pair.strong_score.mean() - pair.weak_score.mean()
    quality = np.where(strong, pair.strong_score, pair.weak_score).mean()
    return float((quality - pair.weak_score.mean()) / gap) if abs(gap) > 1e-12 else 0.0


def calibrate(kind: TargetKind, value: float, pair: ModelPair, scores: npt.NDArray[np.float64]) -> Calibration:
    """The threshold that meets the target on held-in data: for share and dollars the most
    strong calls that stay within it; for pgr the fewest strong calls that reach it."""
    ordered = np.sort(np.unique(scores))[::-1]
    candidates = np.concatenate([[ordered[0] + 1.0], ordered])  # first: above every score (none strong)
    values = [achieved(kind, pair, scores, t) for t in candidates]  # non-decreasing in strong calls
    if kind == "pgr":
        index = next((i for i, v in enumerate(values) if v >= value - 1e-12), len(values) - 1)
    else:
        fitting = [i for i, v in enumerate(values) if v <= value + 1e-12]
        index = fitting[-1] if fitting else 0
    return Calibration(target=kind, value=value, threshold=float(candidates[index]), held_in=values[index])
