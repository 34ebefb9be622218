"""The oracle of the case study: a reference that reads the records, not a router anyone can run.

On each turn it knows both recorded scores and which camera view (if any) the turn needs, so it
sends the turn to the cloud unless the device's recorded answer is strictly better (a tie goes
to the cloud, the faster tier here), with exactly the needed view and the history only where
the turn follows up; it still obeys the session's residency, reachability and worst-case budget
checks like every policy. It is greedy, turn by turn: a reference for what reading the records
buys, not a proven upper bound under a budget (a planner over the whole conversation could do
better).
"""

from __future__ import annotations

from typing import ClassVar

from tierlink.bench.conversations import MISSING_VIEW_FACTOR, VIEWS, CaseStudy, view_hint
from tierlink.context.history import HistoryPlan
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState

CLOUD = "cloud"


class OraclePolicy(Policy):
    """Cloud unless the device's record is strictly better, when the call fits."""

    name: ClassVar[str] = "oracle"

    def __init__(self, case: CaseStudy) -> None:
        self.table = case.table
        # a question can recur in several conversations, needing another view each time: the view
        # is read from the turn's text; whether a turn follows up belongs to the question itself
        self.follows_up = {t.prompt_id: t.follows_up for c in case.conversations for t in c.turns}

    async def decide(self, state: TurnState) -> Action:
        """The better recorded answer, sent with only what it needs, if it fits the budget left."""
        prompt_id = state.request.prompt_id or ""
        device, cloud = self.table.get("device", prompt_id), self.table.get("cloud", prompt_id)
        if device is None or cloud is None or prompt_id not in self.follows_up:
            return Action(endpoint=state.device, reason="oracle: no record of this turn")
        text = state.request.last_user_text
        view = next((v for v in VIEWS if view_hint(v) in text), None)
        device_score = device.score * (MISSING_VIEW_FACTOR if view is not None else 1.0)  # it sees no view
        if cloud.score < device_score:
            return Action(endpoint=state.device, reason="oracle: the device's record is better")
        views = (VIEWS.index(view),) if view is not None else ()
        plan = HistoryPlan(kind="full") if self.follows_up[prompt_id] else HistoryPlan(kind="none")
        action = Action(endpoint=CLOUD, reason="oracle: the cloud's record is as good or better", attachments=views, history=plan)
        if state.admissible is None or state.admissible(action):
            return action
        return Action(endpoint=state.device, reason="oracle: the cloud would help but does not fit the budget left")
