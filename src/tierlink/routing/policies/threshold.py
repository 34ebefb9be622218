"""Threshold on a pluggable difficulty score: hard turns go remote, easy ones stay on the device."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from tierlink.core.errors import ConfigError
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState

Difficulty = Callable[[TurnState], float]
_REASONING = re.compile(r"\b(why|prove|explain|derive|calculate|compute|how many|step)\b", re.IGNORECASE)


def length_difficulty(state: TurnState) -> float:
    """Longer questions are harder: characters / 1000, capped at 1."""
    return min(1.0, len(state.request.last_user_text) / 1000)


def reasoning_difficulty(state: TurnState) -> float:
    """Digits and reasoning words suggest multi-step work (0..1)."""
    text = state.request.last_user_text
    digits = min(1.0, sum(c.isdigit() for c in text) / 20)
    words = min(1.0, len(_REASONING.findall(text)) / 3)
    return 0.5 * digits + 0.5 * words


DIFFICULTY: dict[str, Difficulty] = {"length": length_difficulty, "reasoning": reasoning_difficulty}


class ThresholdPolicy(Policy):
    """Remote when difficulty(state) >= threshold."""

    name: ClassVar[str] = "threshold"

    def __init__(self, threshold: float = 0.3, difficulty: str | Difficulty = "length", target: str | None = None) -> None:
        if isinstance(difficulty, str):
            if difficulty not in DIFFICULTY:
                raise ConfigError("policy.threshold.difficulty", f"unknown difficulty '{difficulty}'", f"use one of {', '.join(DIFFICULTY)} or pass a function")
            difficulty = DIFFICULTY[difficulty]
        self.threshold = threshold
        self.difficulty = difficulty
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        """Remote when the turn's difficulty reaches the threshold, else the device."""
        score = self.difficulty(state)
        if score >= self.threshold:
            return Action(endpoint=pick_remote(state, self.target), reason=f"difficulty {score:.2f} >= {self.threshold:g}")
        return Action(endpoint=state.device, reason=f"difficulty {score:.2f} < {self.threshold:g}")
