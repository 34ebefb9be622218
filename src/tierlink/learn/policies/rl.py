"""The `rl` policy: a MaskablePPO router trained by `tierlink route rl-train`, served in a session.

It observes the same features as in training (budget left included), masks the cloud actions
whose worst case does not fit the budget left, and takes the most probable remaining action.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import joblib

from tierlink.core.errors import DataError
from tierlink.learn.rl_features import ACTIONS, OBS_DIM, action_masks, observe, to_action
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import default_scorer
from tierlink.routing.state import Action, TurnState


class RLPolicy(Policy):
    """Serves a MaskablePPO router from `tierlink route rl-train`, masking as in training."""

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
        self.budget_state = bool(meta.get("budget_state", True))  # as trained: the ablation sees no budget
        self.scorer = default_scorer()  # as in training: which view is 'the most relevant'

    async def decide(self, state: TurnState) -> Action:
        """The policy's action on this turn's observation, cloud actions the budget cannot fit masked."""
        cloud = pick_remote(state)
        relevance = self.scorer.scores(state.request.last_user_text, [a.description for a in state.request.attachments])
        observation = observe(state, cloud, self.difficulty(state.request.last_user_text), self.budget_state)
        index, _ = self.model.predict(observation, action_masks=action_masks(state, cloud, relevance),
                                      deterministic=self.deterministic)
        return to_action(int(index), state, cloud, relevance)
