"""Self-routing (Fang et al., arXiv 2509.24050): the device answers, and a device model trained
to know its limits ends its answer with the help tag when it needs the cloud.

The cap on cloud calls is enforced at serving time as in the paper: a tagged answer goes to the
cloud while the session has made fewer remote calls than ceil(call_ratio x its expected turns);
beyond that the device's answer stands, and the reason says so.
"""

from __future__ import annotations

import math
from typing import ClassVar

from tierlink.routing.help_tag import asks_for_help
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState


class SelfRoutePolicy(Policy):
    """The device's own help tag decides, within a cap on the share of turns sent remote."""

    name: ClassVar[str] = "self-route"

    def __init__(self, call_ratio: float = 0.3, target: str | None = None) -> None:
        if not 0 <= call_ratio <= 1:
            raise ValueError(f"call_ratio must be in [0, 1], not {call_ratio}")
        self.call_ratio = call_ratio
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        """Device first; its tagged answer escalates if a call still fits the cap, else it stands."""
        if state.draft is None:
            return Action(endpoint=state.device, reason="self-route: the device answers first", draft=True)
        if not asks_for_help(state.draft.text):
            return Action(endpoint=state.device, use_draft=True, reason="self-route: the device answered")
        remote = pick_remote(state, self.target)
        view = state.endpoints.get(remote)
        escalate = Action(endpoint=remote, reason="self-route: the device asked for help")
        usable = view is not None and not view.is_device and view.reachable and view.allowed
        if not usable or (state.admissible is not None and not state.admissible(escalate)):
            return Action(endpoint=state.device, use_draft=True,
                          reason=f"self-route: help asked, but {remote} is unreachable, not allowed or over the budget; "
                                 "the device's answer stands")
        calls = sum(n for name, n in state.answered_by.items() if name != state.device)
        allowed = math.ceil(self.call_ratio * max(state.turn, state.expected_turns) - 1e-9)
        if calls >= allowed:
            return Action(endpoint=state.device, use_draft=True,
                          reason=f"self-route: help asked, but the session's {allowed} remote calls "
                                 f"({self.call_ratio:.0%} of its turns) are spent; the device's answer stands")
        return escalate
