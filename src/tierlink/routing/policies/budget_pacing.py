"""Budget pacing: spend the remaining budget evenly over the turns still expected.

Each turn may use (remaining dollars / remaining turns) and the same share of the remaining
latency; the most capable remote endpoint whose worst case fits that allowance answers, else
the device. Early turns cannot starve later ones.
"""

from __future__ import annotations

from typing import ClassVar

from tierlink.routing.policy import Policy
from tierlink.routing.reservation import reserve
from tierlink.routing.state import Action, TurnState


class BudgetPacingPolicy(Policy):
    """Remote only within this turn's share of what is left."""

    name: ClassVar[str] = "budget-pacing"

    def __init__(self, slack: float = 1.0) -> None:
        self.slack = slack  # >1 lets early turns spend a little ahead

    async def decide(self, state: TurnState) -> Action:
        """The most capable remote whose worst case fits this turn's even share, else the device."""
        turns_left = state.remaining_turns
        dollars = None if state.budget.dollars is None else self.slack * state.budget.dollars / turns_left
        seconds = None if state.budget.latency_s is None else self.slack * state.budget.latency_s / turns_left
        for view in state.remote_candidates():
            worst = reserve(state.request, view.profile, view.link)
            if (dollars is None or worst.dollars <= dollars) and (seconds is None or worst.latency.total_s <= seconds):
                return Action(endpoint=view.name, reason=f"pacing: {view.name} fits this turn's share "
                              f"(${worst.dollars:.4f} of ${dollars if dollars is not None else float('inf'):.4f}, {turns_left} turns left)")
        return Action(endpoint=state.device, reason=f"pacing: no remote endpoint fits this turn's share ({turns_left} turns left)")
