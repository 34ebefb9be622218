"""Random routing: the reference every policy must beat (seeded, reproducible)."""

from __future__ import annotations

import random
from typing import ClassVar

from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState


class RandomPolicy(Policy):
    """Sends a turn to the remote endpoint with probability `p_remote`."""

    name: ClassVar[str] = "random"

    def __init__(self, p_remote: float = 0.5, seed: int = 0, target: str | None = None) -> None:
        if not 0 <= p_remote <= 1:
            raise ValueError(f"p_remote must lie in [0, 1], got {p_remote}")
        self.p_remote = p_remote
        self.target = target
        self._rng = random.Random(seed)

    async def decide(self, state: TurnState) -> Action:
        """Remote with probability `p_remote` from the policy's own seeded RNG, else the device."""
        if self._rng.random() < self.p_remote:
            return Action(endpoint=pick_remote(state, self.target), reason=f"random (p={self.p_remote:g}): remote")
        return Action(endpoint=state.device, reason=f"random (p={self.p_remote:g}): device")
