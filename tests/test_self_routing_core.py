"""Self-routing's pieces: the reward, the unbiased group estimator and the adaptive filter."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pydantic import ValidationError

from tierlink.learn.self_routing.estimator import group_weights, normalised_group_weights
from tierlink.learn.self_routing.filtering import PromptGroup, filter_prompts, rho_for_call_ratio
from tierlink.learn.self_routing.rewards import Rewards
from tierlink.routing.help_tag import HELP_TAG, asks_for_help, without_help_tag


def test_the_reward_pays_a_right_answer_and_a_useful_call_only() -> None:
    rewards = Rewards(alpha_local=1.0, alpha_cloud=0.4)
    assert rewards.of(asked=False, local_correct=True, cloud_correct=False) == 1.0
    assert rewards.of(asked=True, local_correct=True, cloud_correct=True) == 0.4  # asking forfeits the local answer
    assert rewards.of(asked=True, local_correct=False, cloud_correct=False) == 0.0
    assert rewards.of(asked=False, local_correct=False, cloud_correct=True) == 0.0
    with pytest.raises(ValidationError, match="alpha_cloud must not exceed alpha_local"):
        Rewards(alpha_local=0.5, alpha_cloud=0.6)


def test_the_help_tag_counts_only_at_the_end_of_the_answer() -> None:
    assert asks_for_help(f"I am not sure. {HELP_TAG}") and asks_for_help(f"{HELP_TAG}\n")
    assert not asks_for_help(f"{HELP_TAG} The answer is 42.")  # an answer after the tag is an answer
    assert not asks_for_help("The answer is 42.")
    assert without_help_tag(f"Maybe 41. {HELP_TAG}") == "Maybe 41."
    assert without_help_tag(f"Set x to <unknown> first. Then y. {HELP_TAG}") == "Set x to <unknown> first. Then y."


def test_the_group_estimator_is_unbiased_on_a_bandit_with_a_known_gradient() -> None:
    """Softmax policy over 3 arms: the mean of many group estimates matches the exact gradient
    pi_k (r_k - E r) within sampling error; GRPO's std-normalised weights do not."""
    rng = np.random.default_rng(0)
    theta = np.array([0.3, -0.2, 0.1])
    reward = np.array([1.0, 0.4, 0.0])
    pi = np.exp(theta) / np.exp(theta).sum()
    exact = pi * (reward - pi @ reward)
    groups, size = 40_000, 4
    arms = rng.choice(3, size=(groups, size), p=pi)
    score = np.eye(3)[arms] - pi  # grad log pi(a) = e_a - pi
    loo = np.stack([group_weights(reward[a]) for a in arms])[..., None] * score
    norm = np.stack([normalised_group_weights(reward[a]) for a in arms])[..., None] * score
    loo_mean, loo_se = loo.sum(1).mean(0), loo.sum(1).std(0) / np.sqrt(groups)
    assert np.all(np.abs(loo_mean - exact) < 4 * loo_se)
    assert np.any(np.abs(norm.sum(1).mean(0) - exact) > 10 * loo_se)


def test_normalising_by_the_group_std_hides_the_price_of_a_call() -> None:
    """The paper's argument: with std normalisation [alpha_a, 0, 0, 0] and [alpha_c, 0, 0, 0] weigh the same."""
    local, call = [1.0, 0, 0, 0], [0.4, 0, 0, 0]
    assert np.allclose(normalised_group_weights(local), normalised_group_weights(call), rtol=1e-3)
    assert np.allclose(group_weights(local), 2.5 * group_weights(call))
    assert np.allclose(group_weights([0.7, 0.7, 0.7]), 0.0) and len(group_weights([1.0])) == 1


def test_the_filter_keeps_answerable_prompts_and_caps_ask_worthy_ones() -> None:
    groups = ([PromptGroup(local_correct=[True, False], cloud_correct=False)] * 10
              + [PromptGroup(local_correct=[False, False], cloud_correct=True, asked=[True, False])] * 8
              + [PromptGroup(local_correct=[False, False], cloud_correct=False, asked=[True, True])] * 5
              + [PromptGroup(local_correct=[False, False], cloud_correct=True, asked=[False, False])] * 3)
    kept = filter_prompts(groups, rho=3 / 7, rng=random.Random(0), stochastic=False)
    assert kept.answerable == list(range(10))
    assert len(kept.ask_worthy) == 4 and set(kept.ask_worthy) <= set(range(10, 18))  # floor(3/7 * 10)
    assert kept.dropped == 26 - 14 and kept.kept == kept.answerable + kept.ask_worthy
    assert filter_prompts(groups[10:], rho=3 / 7, rng=random.Random(0)).kept == []  # no D1: no D2 either
    rng = random.Random(1)  # stochastic rounding: 4 or 5, 30/7 = 4.29 on average
    sizes = [len(filter_prompts(groups, rho=3 / 7, rng=rng).ask_worthy) for _ in range(4000)]
    assert set(sizes) == {4, 5} and abs(sum(sizes) / len(sizes) - 30 / 7) < 0.03
    one = [PromptGroup(local_correct=[True], cloud_correct=True)] + groups[10:12]  # rho * |D1| = 0.43: still learnable
    assert 0.38 < sum(len(filter_prompts(one, 3 / 7, rng).ask_worthy) for _ in range(4000)) / 4000 < 0.48
    silent = [PromptGroup(local_correct=[True], cloud_correct=True)] * 7 + groups[-3:]  # nobody asked: nothing to learn
    assert filter_prompts(silent, 3 / 7, rng).ask_worthy == []
    everyone = silent[:7] + [PromptGroup(local_correct=[False, False], cloud_correct=True, asked=[True, True])] * 3
    assert filter_prompts(everyone, 3 / 7, rng).ask_worthy == []  # all asked: equal rewards, zero weights
    assert rho_for_call_ratio(0.3) == pytest.approx(3 / 7)
    with pytest.raises(ValueError, match="call ratio"):
        rho_for_call_ratio(1.0)
