"""The `rl` policy: a MaskablePPO router trained by `tierlink route rl-train`, served in a session.

It observes the same features as in training (budget left included), masks the cloud actions
whose worst case does not fit the budget left, and takes the most probable remaining action.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import joblib

from tierlink.context.history import HistoryPlan, plan_messages
from tierlink.core.errors import DataError
from tierlink.learn.rl_features import ACTIONS, OBS_DIM, observe, to_action, with_device_mask
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import default_scorer
from tierlink.routing.reservation import reserve
from tierlink.routing.state import Action, EndpointView, TurnState


class RLPolicy(Policy):
    name: ClassVar[str] = "rl"

    def __init__(self, model: str | Path, deterministic: bool = True) -> None:
        from sb3_contrib import MaskablePPO

        from tierlink.learn.rl_train import DIFFICULTY_FILE, META_FILE, MODEL_FILE, DifficultyScorer

        directory = Path(model)
        if not (directory / MODEL_FILE).is_file():
            raise DataError(str(directory), "not a trained RL router directory", "train one with `tierlink route rl-train`")
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        if meta["obs_dim"] != OBS_DIM or meta["actions"] != len(ACTIONS):
            raise DataError(str(directory), "trained with another observation or action layout", "retrain it with this version")
        self.model: Any = MaskablePPO.load(directory / MODEL_FILE, device="cpu")
        self.difficulty = DifficultyScorer(joblib.load(directory / DIFFICULTY_FILE))
        self.deterministic = deterministic
        self.scorer = default_scorer()  # as in training: which view is 'the most relevant'

    async def decide(self, state: TurnState) -> Action:
        cloud = pick_remote(state)
        relevance = self.scorer.scores(state.request.last_user_text, [a.description for a in state.request.attachments])
        view = state.endpoints.get(cloud)
        remote_ok = view is not None and view.reachable and view.allowed and cloud != state.device
        cloud_masks = [remote_ok and view is not None and self._fits(state, to_action(i, state, cloud, relevance), view)
                       for i in range(1, len(ACTIONS))]
        device_fits = self._fits(state, to_action(0, state, cloud, relevance), state.endpoints[state.device])
        observation = observe(state, cloud, self.difficulty(state.request.last_user_text))
        index, _ = self.model.predict(observation, action_masks=with_device_mask(cloud_masks, device_fits),
                                      deterministic=self.deterministic)
        return to_action(int(index), state, cloud, relevance)

    @staticmethod
    def _fits(state: TurnState, action: Action, view: EndpointView) -> bool:
        """Does the action's worst case (its attachments and planned history) fit the budget left?
        The session's own check when the state carries it (as in training), else an estimate."""
        if state.admissible is not None:
            return state.admissible(action)
        chosen = state.request.attachments if action.attachments is None else tuple(
            state.request.attachments[i] for i in action.attachments)
        plan = action.history or HistoryPlan(kind="full")
        messages = plan_messages(state.history, state.request.messages, plan)
        request = state.request.model_copy(update={"attachments": chosen if view.link is not None else (), "messages": messages})
        return state.budget.fits(reserve(request, view.profile, view.link))
