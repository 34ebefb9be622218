"""The learned orchestrator (Sec. IV-B; Dang et al., NeurIPS 2025): a coordinator policy, trained
with RL (MaskablePPO) on replayed team runs, that picks which agent to activate each round and
when to conclude, paying for every message it causes (Optima-style reward, `orchestrator_env`).

Besides the policy: the rule it must beat without learning, "ask in order of training accuracy
until the count is settled" (no answer still to come could change the plurality), which gives a
plain vote's answer with fewer asks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sb3_contrib import MaskablePPO

from tierlink.agents.result import TeamResult
from tierlink.scale.orchestrator_env import OrchestratorEnv, margin_and_settled
from tierlink.scale.team_replay import RIGHT_ANSWER, ReplayTeam, replay_asks


def train_orchestrator(team: ReplayTeam, questions: Sequence[str], steps: int = 150_000, seed: int = 0,
                       max_token_weight: float = 1.0, round_weight: float = 0.0, entropy: float = 0.05) -> MaskablePPO:
    """A policy for every token weight in [0, max_token_weight], trained on `questions` only.
    The entropy bonus keeps it trying a second agent long enough to learn when one is worth it
    (at 0.01 and 40,000 steps it settled on asking the best agent alone)."""
    env = OrchestratorEnv(team, questions, max_token_weight, round_weight, seed)
    model = MaskablePPO("MlpPolicy", env, seed=seed, n_steps=2048, batch_size=256, learning_rate=3e-4,
                        gamma=1.0, ent_coef=entropy, verbose=0, device="cpu")
    model.learn(total_timesteps=steps)
    return model


def orchestrate(model: MaskablePPO, team: ReplayTeam, question: str, token_weight: float) -> TeamResult:
    """One question run by the policy, greedily (its most likely action each round)."""
    env = OrchestratorEnv(team, [question])
    obs, _ = env.reset(options={"question": question, "token_weight": token_weight})
    done, reason = False, "all agents asked"
    while not done:
        action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
        if int(action) == env.k:  # the stop action
            reason = "the policy stopped"
        obs, _, done, _, _ = env.step(int(action))
    return replay_asks(team, question, env.asked, reason)


def accuracy_order(team: ReplayTeam, questions: Sequence[str]) -> list[int]:
    """Agents from most to least often right on `questions` (training questions only)."""
    right = [sum(team.recorded.correct(model, q) for q in questions) for model in team.models]
    return sorted(range(len(team.models)), key=lambda i: (-right[i], i))


def settled_asks(team: ReplayTeam, question: str, order: Sequence[int]) -> TeamResult:
    """Ask in `order` until no answer still to come could change the plurality; then stop."""
    asked: list[int] = []
    answers: list[str] = []
    for i in order:
        asked.append(i)
        answers.append(team.first_answer(i, question))
        if margin_and_settled(answers, len(order) - len(asked))[1]:
            break
    reason = "settled" if len(asked) < len(order) else "all agents asked"
    return replay_asks(team, question, asked, reason)


def right(result: TeamResult) -> bool:
    """Whether a replayed run's final answer is the gold label."""
    return result.answer == RIGHT_ANSWER


def mean_right(results: Sequence[TeamResult]) -> float:
    """Share of runs answered right."""
    return float(np.mean([right(r) for r in results])) if results else 0.0
