"""A gymnasium environment over the case-study conversations, for an RL router with budget state.

One episode is one conversation. Each step routes one turn through a real tierlink Session
(replay endpoints, a link, the worst-case reservation), so the environment's accounting is the
session's. Budgets are sampled per episode — uniform, around the paper's default, and near the
extremes — so the policy learns to act on budgets it never saw. Over-budget and unreachable
actions are masked. Reward: quality - the cloud's recorded score on the turn (an action-independent
baseline) - w_latency x latency/latency budget - w_cost x dollars/dollar budget.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from tierlink.bench.case_study_run import turn_quality
from tierlink.bench.conversations import CaseStudy, turn_request
from tierlink.core.budget import Budget
from tierlink.core.messages import Request
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.learn.rl_features import (
    ACTIONS,
    OBS_BOUND,
    OBS_DIM,
    action_masks,
    observe,
    to_action,
)
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import RelevanceScorer, default_scorer
from tierlink.routing.session import Session
from tierlink.routing.state import Action, TurnState

CLOUD = "cloud"
LATENCY_WEIGHT = 6.0  # reward weight on seconds / latency budget (lower left the choice of views to chance)
COST_WEIGHT = 0.3  # reward weight on dollars / dollar budget


def sample_budget(rng: np.random.Generator) -> Budget:
    """Uniform (log scale), around 30 s / $0.05, or near the extremes."""
    kind = rng.random()
    if kind < 0.4:
        return Budget(latency_s=float(rng.uniform(3, 90)), dollars=float(10 ** rng.uniform(-4, -0.7)))
    if kind < 0.8:
        return Budget(latency_s=float(max(1.0, rng.normal(30, 9))), dollars=float(max(1e-5, rng.normal(0.05, 0.015))))
    tight = rng.random() < 0.5
    return Budget(latency_s=float(rng.uniform(1, 6) if tight else rng.uniform(120, 300)),
                  dollars=float(rng.uniform(1e-5, 5e-4) if tight else rng.uniform(0.2, 1.0)))


class _Scripted(Policy):
    """The environment's action, handed to the session."""

    name = "rl-env"

    def __init__(self) -> None:
        self.action: Action | None = None

    async def decide(self, state: TurnState) -> Action:
        """The action `step` set just before asking the session (asserts one was set)."""
        assert self.action is not None
        return self.action


class ConversationEnv(gym.Env):  # type: ignore[type-arg]
    """Routing turns of recorded conversations under sampled budgets."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, case: CaseStudy, device: EndpointProfile, cloud: EndpointProfile, link: Link,
                 difficulty: Callable[[Request], float], latency_weight: float = LATENCY_WEIGHT, cost_weight: float = COST_WEIGHT,
                 fixed_budget: Budget | None = None, scorer: RelevanceScorer | None = None,
                 budget_state: bool = True) -> None:
        super().__init__()
        self.budget_state = budget_state  # False: the ablation that hides the budget left
        self.case, self.device, self.cloud, self.link = case, device, cloud, link
        self.difficulty = difficulty
        self.latency_weight, self.cost_weight = latency_weight, cost_weight
        self.fixed_budget = fixed_budget
        self.scorer = scorer or default_scorer()  # the view 'best' names: MiniLM relevance when installed
        self.observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self._loop = asyncio.new_event_loop()
        self._policy = _Scripted()
        self._session: Session | None = None
        self._turns: list[Any] = []
        self._index = 0
        self._budget = Budget()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        """A random conversation under a sampled budget; `options` may fix either
        ({"conversation": index, "budget": Budget}), as validation does."""
        super().reset(seed=seed)
        options = options or {}
        index = options.get("conversation")
        if index is None:
            index = int(self.np_random.integers(len(self.case.conversations)))
        self._turns = self.case.conversations[index].turns
        self._index = 0
        self._budget = options.get("budget") or self.fixed_budget or sample_budget(self.np_random)
        clock = VirtualClock()
        endpoints = {
            "device": ReplayEndpoint("device", self.case.table, "device", self.device, "robot", price_from_profile=True),
            CLOUD: LinkedEndpoint(ReplayEndpoint(CLOUD, self.case.table, CLOUD, self.cloud, CLOUD, price_from_profile=True), self.link, clock),
        }
        self._session = Session(endpoints, "device", self._policy, self._budget, zones={"device": "device", CLOUD: CLOUD},
                                expected_turns=len(self._turns), scorer=self.scorer)
        return self._observation(), {"budget": self._budget.model_dump()}

    def _state(self) -> TurnState:
        assert self._session is not None
        return self._session.preview(turn_request(self._turns[self._index]))

    def _observation(self) -> npt.NDArray[np.float32]:
        state = self._state()
        return observe(state, CLOUD, self.difficulty(state.request), self.budget_state)

    def _relevance(self, state: TurnState) -> list[float]:
        return self.scorer.scores(state.request.last_user_text, [a.description for a in state.request.attachments])

    def action_masks(self) -> npt.NDArray[np.bool_]:
        """Actions the session would accept now (rl_features.action_masks, as in serving)."""
        state = self._state()
        return action_masks(state, CLOUD, self._relevance(state))

    def step(self, action: int) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Route one turn with `action`; reward: quality - cloud baseline - weighted time and cost."""
        assert self._session is not None
        state = self._state()
        turn = self._turns[self._index]
        self._policy.action = to_action(int(action), state, CLOUD, self._relevance(state))
        result = self._loop.run_until_complete(self._session.ask(state.request))
        quality = turn_quality(turn, result)
        latency_share = result.usage.latency.total_s / max(1e-9, self._budget.latency_s or math.inf)
        cost_share = result.usage.dollars / max(1e-12, self._budget.dollars or math.inf)
        reward = quality - self._baseline(turn) - self.latency_weight * latency_share - self.cost_weight * cost_share
        self._index += 1
        done = self._index >= len(self._turns)
        info = {"quality": quality, "latency_s": result.usage.latency.total_s, "dollars": result.usage.dollars,
                "endpoint": result.endpoint, "refused": result.refused}
        observation = np.zeros(OBS_DIM, dtype=np.float32) if done else self._observation()
        return observation, float(reward), done, False, info

    def _baseline(self, turn: Any) -> float:
        """The cloud's recorded score on this turn. It does not depend on the action, so
        subtracting it leaves the optimal policy unchanged, but it removes most of the reward's
        variance (how hard the question is), leaving what the action changed: quality lost by the
        device or a missing view or context, and the seconds and dollars spent."""
        record = self.case.table.get(CLOUD, turn.prompt_id)
        return float(record.score) if record is not None else 0.0

    def close(self) -> None:
        """Close the environment's own event loop, on which its sessions run."""
        self._loop.close()
