"""Keep the RL router's best checkpoint by its reward on validation conversations.

PPO on this environment does not improve monotonically: with more steps some seeds drift
toward the device and lose quality (see benchmarks/README.md). So training evaluates the
current policy every `every` steps on a fixed set of validation episodes — conversations over
the train split's held-out 'validation' questions (training uses only its 'fit' part), each
under the paper's 30 s / $0.05 budget and under one budget drawn like training's — and keeps
the weights that scored best. The test split is never looked at.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from tierlink.core.budget import Budget
from tierlink.learn.rl_env import ConversationEnv, sample_budget

DEFAULT_BUDGET = Budget(latency_s=30, dollars=0.05)


def validation_episodes(conversations: int, seed: int) -> list[tuple[int, Budget]]:
    """(conversation index, budget) pairs: every conversation under the default budget and under a sampled one."""
    rng = np.random.default_rng(seed)
    return [(i, budget) for i in range(conversations) for budget in (DEFAULT_BUDGET, sample_budget(rng))]


def validation_reward(model: Any, env: ConversationEnv, episodes: list[tuple[int, Budget]]) -> float:
    """Mean episode reward of the deterministic policy over `episodes`."""
    totals = []
    for conversation, budget in episodes:
        observation, _ = env.reset(options={"conversation": conversation, "budget": budget})
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(observation, action_masks=env.action_masks(), deterministic=True)
            observation, reward, done, _, _ = env.step(int(action))
            total += reward
        totals.append(total)
    return float(np.mean(totals))


class BestOnValidation(BaseCallback):
    """Evaluates every `every` steps (and at the end); `restore()` loads the best weights seen."""

    def __init__(self, env: ConversationEnv, episodes: list[tuple[int, Budget]], every: int) -> None:
        super().__init__()
        self.env, self.episodes, self.every = env, episodes, every
        self.best_reward = -np.inf
        self.best_step = 0
        self.history: list[tuple[int, float]] = []
        self._best_state: dict[str, Any] | None = None

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every == 0:
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if not self.history or self.history[-1][0] != self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> None:
        """Score the current policy on the validation episodes; keep its weights if it is the best yet."""
        reward = validation_reward(self.model, self.env, self.episodes)
        self.history.append((self.num_timesteps, reward))
        if reward > self.best_reward:
            self.best_reward, self.best_step = reward, self.num_timesteps
            self._best_state = copy.deepcopy(self.model.policy.state_dict())

    def restore(self) -> None:
        """Load the best weights seen into the model (nothing to do before any evaluation)."""
        if self._best_state is not None:
            self.model.policy.load_state_dict(self._best_state)
