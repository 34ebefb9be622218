"""The learned orchestrator's environment (gymnasium): a coordinator asks agents one a round and
decides when to stop, on replayed questions (`scale.team_replay`).

Each step it asks one agent it has not asked yet, or stops; the final answer is the plurality of
the answers it holds (the earliest asked wins a tie). Reward (Optima-style): +1 for a right final
answer, minus `token_weight` per 1,000 message tokens and `round_weight` per round. The token
weight is drawn per episode and is part of the state, so one policy serves every weight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from tierlink.scale.team_replay import RIGHT_ANSWER, ReplayTeam

TOKEN_SCALE = 1000.0  # token weights are per 1,000 message tokens


def margin_and_settled(answers: Sequence[str], remaining: int) -> tuple[int, bool]:
    """The plurality's lead over the runner-up, and whether the `remaining` answers could no
    longer change which answer leads (the count is settled)."""
    counts = sorted(Counter(answers).values(), reverse=True) + [0, 0]
    lead = counts[0] - counts[1]
    return lead, lead > remaining


def obs_dim(agents: int) -> int:
    """Length of the state: per agent asked / agrees with the leader, then 6 summary figures."""
    return 2 * agents + 6


class OrchestratorEnv(gym.Env[npt.NDArray[np.float32], int]):
    """Ask agent k (actions 0..K-1) or stop (action K); invalid actions are masked."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, team: ReplayTeam, questions: Sequence[str], max_token_weight: float = 1.0,
                 round_weight: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        if not questions:
            raise ValueError("the orchestrator needs questions to train on")
        self.team, self.questions = team, list(questions)
        self.k = len(team.models)
        self.max_token_weight, self.round_weight = max_token_weight, round_weight
        self.observation_space = gym.spaces.Box(0.0, np.inf, shape=(obs_dim(self.k),), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.k + 1)
        self.rng = np.random.default_rng(seed)
        self.question, self.token_weight = self.questions[0], 0.0
        self.asked: list[int] = []
        self.answers: list[str] = []
        self.tokens = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        """A new question (options: {'question': q, 'token_weight': w} pins them)."""
        super().reset(seed=seed)
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        options = options or {}
        self.question = options.get("question") or self.questions[int(self.rng.integers(len(self.questions)))]
        weight = options.get("token_weight")
        self.token_weight = float(weight if weight is not None else self.rng.uniform(0.0, self.max_token_weight))
        self.asked, self.answers, self.tokens = [], [], 0
        return self._obs(), {}

    def step(self, action: int) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Ask an agent (paying its message) or stop (scoring the plurality)."""
        action = int(action)
        if action < self.k and action not in self.asked:
            tokens = self.team.output_tokens(action, self.question)
            self.asked.append(action)
            self.answers.append(self.team.first_answer(action, self.question))
            self.tokens += tokens
            reward = -self.token_weight * tokens / TOKEN_SCALE - self.round_weight
            if len(self.asked) < self.k:
                return self._obs(), reward, False, False, {}
            return self._obs(), reward + self._score(), True, False, {"asked": list(self.asked)}
        if not self.asked:  # stopping before asking anyone is masked; if forced, it answers nothing
            return self._obs(), 0.0, True, False, {"asked": []}
        return self._obs(), self._score(), True, False, {"asked": list(self.asked)}

    def action_masks(self) -> npt.NDArray[np.bool_]:
        """Agents not yet asked, and stop once someone has answered."""
        mask = np.ones(self.k + 1, dtype=bool)
        mask[self.asked] = False
        mask[self.k] = bool(self.asked)
        return mask

    def leader(self) -> str | None:
        """The plurality answer held now (the earliest asked wins a tie)."""
        if not self.answers:
            return None
        counts = Counter(self.answers)
        best = max(counts.values())
        return next(a for a in self.answers if counts[a] == best)

    def _score(self) -> float:
        return 1.0 if self.leader() == RIGHT_ANSWER else 0.0

    def _obs(self) -> npt.NDArray[np.float32]:
        """Who was asked and who agrees with the leader; how settled the count is; the weight."""
        obs = np.zeros(obs_dim(self.k), dtype=np.float32)
        leader = self.leader()
        for i, answer in zip(self.asked, self.answers, strict=True):
            obs[i] = 1.0
            obs[self.k + i] = float(answer == leader)
        n = len(self.asked)
        lead, settled = margin_and_settled(self.answers, self.k - n)
        top = max(Counter(self.answers).values(), default=0)
        obs[2 * self.k:] = (n / self.k, top / max(1, n), lead / self.k, float(settled), self.tokens / TOKEN_SCALE, self.token_weight)
        return obs
