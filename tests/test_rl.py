"""The RL router: the environment (gymnasium checker, masks, budget sampling), training, serving."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE
from tierlink.core import Budget
from tierlink.learn.rl_env import sample_budget
from tierlink.learn.rl_features import ACTIONS, OBS_DIM
from tierlink.learn.rl_train import make_env, train_rl
from tierlink.routing.policy import make_policy


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rl")
    train_rl(out, steps=1024, seed=0, conversations=20)
    return out


def test_environment_passes_the_gymnasium_checker() -> None:
    env, _ = make_env(conversations=10)
    check_env(env, skip_render_check=True)
    observation, info = env.reset(seed=3)
    assert observation.shape == (OBS_DIM,) and "budget" in info
    assert env.action_space.n == len(ACTIONS) == 10
    env.close()


def test_masks_follow_the_budget_left() -> None:
    env, _ = make_env(conversations=10)
    env.fixed_budget = Budget(latency_s=30, dollars=1e-7)  # no cloud call fits
    env.reset(seed=0)
    masks = env.action_masks()
    assert masks[0] and not masks[1:].any()
    env.fixed_budget = Budget(latency_s=300, dollars=1.0)
    env.reset(seed=0)
    assert env.action_masks().all()
    env.close()


def test_the_ablation_hides_the_budget_and_nothing_else() -> None:
    """Without budget state two budgets look the same to the policy; with it they differ."""
    seen = {}
    for budget_state in (True, False):
        env, _ = make_env(conversations=10, budget_state=budget_state)
        observations = []
        for budget in (Budget(latency_s=5, dollars=0.001), Budget(latency_s=300, dollars=1.0)):
            env.fixed_budget = budget
            observation, _ = env.reset(seed=0)
            observations.append(observation)
        seen[budget_state] = observations
        env.close()
    assert not np.array_equal(*seen[True])
    assert np.array_equal(*seen[False])
    changed = np.flatnonzero(seen[True][0] != seen[True][1])  # the budget features, and nothing else
    assert 0 < len(changed) <= 4 and not seen[False][0][changed].any()


def test_an_episode_never_overspends() -> None:
    env, _ = make_env(conversations=10)
    rng = np.random.default_rng(0)
    for episode in range(10):
        env.reset(seed=episode)
        spent, done = 0.0, False
        budget = env._budget
        while not done:
            legal = np.flatnonzero(env.action_masks())
            _, reward, done, _, info = env.step(int(rng.choice(legal)))
            spent += info["dollars"]
            assert np.isfinite(reward)
        assert spent <= (budget.dollars or np.inf) + 1e-12
    env.close()


def test_budget_sampler_covers_tight_default_and_loose() -> None:
    rng = np.random.default_rng(0)
    budgets = [sample_budget(rng) for _ in range(500)]
    dollars = np.array([b.dollars for b in budgets])
    assert (dollars < 1e-3).any() and (dollars > 0.2).any() and ((dollars > 0.03) & (dollars < 0.07)).any()


async def test_trained_policy_serves_in_a_session_within_budget(trained: Path) -> None:
    from tierlink.bench.case_study_run import run_policy
    from tierlink.bench.conversations import build_case_study
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.network.link import Link
    from tierlink.network.registry import link_profiles
    from tierlink.routing.relevance import LexicalRelevance

    profiles = endpoint_profiles()
    case = build_case_study(8, seed=0)
    link = Link.from_profile("5g", "robot", "cloud", link_profiles()["5g"])
    policy = make_policy("rl", model=str(trained))
    for budget in (Budget(latency_s=30, dollars=0.05), Budget(latency_s=30, dollars=0.0005)):
        summary = await run_policy("rl", lambda: policy, case, budget, link, profiles[CASE_DEVICE],
                                   profiles[CASE_CLOUD], LexicalRelevance())
        assert summary.dollar_over_budget == 0 and summary.mean_dollars <= budget.dollars  # type: ignore[operator]


def test_rl_train_cli_and_bad_directory(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tierlink.cli", "route", "rl-train", "--out", str(tmp_path / "rl"),
                             "--steps", "512", "--conversations", "10"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rl" / "rl_policy.zip").is_file()
    from tierlink.core.errors import DataError

    with pytest.raises(DataError, match="not a trained RL router"):
        make_policy("rl", model=str(tmp_path))


def test_validation_keeps_the_best_checkpoint() -> None:
    from sb3_contrib import MaskablePPO

    from tierlink.learn.rl_select import BestOnValidation, validation_episodes, validation_reward
    from tierlink.learn.rl_train import validation_env

    env, _ = make_env(conversations=10)
    val = validation_env(env, 4, seed=0)
    episodes = validation_episodes(4, seed=0)
    assert [budget for _, budget in episodes][::2] == [Budget(latency_s=30, dollars=0.05)] * 4
    model = MaskablePPO("MlpPolicy", env, seed=0, n_steps=128, batch_size=64, device="cpu")
    selector = BestOnValidation(val, episodes, every=128)
    model.learn(total_timesteps=640, callback=selector)
    steps = [step for step, _ in selector.history]
    assert steps == [128, 256, 384, 512, 640]
    assert selector.best_reward == max(reward for _, reward in selector.history)
    selector.restore()  # the kept weights reproduce the best validation reward exactly
    assert validation_reward(model, val, episodes) == pytest.approx(selector.best_reward)
    observation, info = val.reset(options={"conversation": 2, "budget": Budget(latency_s=5, dollars=0.01)})
    assert info["budget"]["latency_s"] == 5 and val._turns is val.case.conversations[2].turns
    env.close()
    val.close()
