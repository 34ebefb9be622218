"""Adaptive prompt filtering (paper Sec. 3.3): update only on prompts the policy can learn from.

D1: prompts where at least one local sample is correct (learn to answer). D2: prompts where no
local sample is correct but the cloud is (learn to ask), at most rho * |D1| of them, drawn at
random, so that asking is learned no faster than the call budget allows. With a few prompts
per update rho * |D1| is often below 1, and flooring it would never let the policy learn to ask;
the cap is therefore rounded stochastically (floor, plus one with the fractional part's
probability), so it equals rho * |D1| on average.

A D2 prompt is one whose only reward came from a call: some sample asked and the cloud was right.
A group in which no sample asked earns 0 everywhere, and one in which every sample asked earns
alpha_cloud everywhere: either way its leave-one-out weights are all zero. Counting such groups
against the cap would spend it on updates that teach nothing (in the first runs the cap of ~1
prompt per step mostly went to groups where nobody asked, and asking was unlearned).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pydantic import BaseModel, Field


class PromptGroup(BaseModel):
    """One prompt's samples as the filter needs them."""

    local_correct: list[bool]
    cloud_correct: bool
    asked: list[bool] = Field(default_factory=list, description="which samples ended with the help tag")


class Filtered(BaseModel):
    """The indices kept for the update, by reason."""

    answerable: list[int]  # D1
    ask_worthy: list[int]  # D2, capped
    dropped: int

    @property
    def kept(self) -> list[int]:
        """D1 then D2, the prompts the update uses."""
        return self.answerable + self.ask_worthy


def filter_prompts(groups: Sequence[PromptGroup], rho: float, rng: random.Random, stochastic: bool = True) -> Filtered:
    """D1 (some local sample correct) and at most rho * |D1| of D2 (none correct, some sample
    asked, cloud correct), the cap rounded stochastically (or down, with `stochastic` off)."""
    if rho < 0:
        raise ValueError(f"rho must be >= 0, not {rho}")
    answerable = [i for i, g in enumerate(groups) if any(g.local_correct)]
    candidates = [i for i, g in enumerate(groups) if not any(g.local_correct) and g.cloud_correct and any(g.asked) and not all(g.asked)]
    allowed = rho * len(answerable)
    cap = int(allowed + 1e-9)
    if stochastic and rng.random() < allowed - cap:
        cap += 1
    ask_worthy = sorted(rng.sample(candidates, min(cap, len(candidates))))
    return Filtered(answerable=answerable, ask_worthy=ask_worthy, dropped=len(groups) - len(answerable) - len(ask_worthy))


def rho_for_call_ratio(call_ratio: float) -> float:
    """The constraint E[cloud] <= rho * E[local] for a target share of cloud calls: rho = c / (1 - c)."""
    if not 0 <= call_ratio < 1:
        raise ValueError(f"the call ratio must be in [0, 1), not {call_ratio}")
    return call_ratio / (1 - call_ratio)
