"""Train the RL router (MaskablePPO, sb3-contrib) on the conversation environment and save it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
from pydantic import BaseModel
from sklearn.model_selection import KFold

from tierlink import __version__
from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, CaseStudy, Split, build_case_study
from tierlink.core.messages import Request
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.learn.data import PairData, Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.featurize import Featurizer
from tierlink.learn.rl_env import COST_WEIGHT, LATENCY_WEIGHT, ConversationEnv
from tierlink.learn.rl_features import ACTIONS, OBS_DIM
from tierlink.learn.routers.base import Router
from tierlink.learn.routers.classifiers import LogRegRouter
from tierlink.network.link import Link
from tierlink.network.registry import link_profiles

MODEL_FILE = "rl_policy.zip"
META_FILE = "rl_policy.json"
DIFFICULTY_FILE = "difficulty.joblib"
DEVICE_PROFILE = CASE_DEVICE
CLOUD_PROFILE = CASE_CLOUD


class RLMeta(BaseModel):
    """How a saved RL router was trained; serving refuses one whose obs_dim or actions differ."""

    steps: int
    seed: int
    conversations: int
    latency_weight: float
    cost_weight: float
    obs_dim: int
    actions: int
    link: str
    tierlink_version: str
    validation_conversations: int = 0
    best_step: int | None = None  # the checkpoint kept (best validation reward); None: the last
    validation_reward: float | None = None
    budget_state: bool = True  # False: trained without the remaining-budget features (the ablation)


class DifficultyScorer:
    """A prompt-only router's score for one question (cached embeddings; no task label)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.cache = EmbeddingCache()

    def __call__(self, text: str) -> float:
        prompts = Prompts(np.asarray(["turn"]), [text], [None])
        return float(self.router.score(prompts, self.cache)[0])


def _difficulty_router() -> Router:
    router = LogRegRouter()
    router.featurizer = Featurizer(use_task=False)  # the live turn carries no task label
    return router


def train_difficulty(case: CaseStudy) -> Router:
    """Logistic regression on the training conversations' recorded device/cloud outcomes."""
    return _difficulty_router().fit(PairData.from_outcomes(case.table.frame, "device", "cloud"), EmbeddingCache())


class CrossFitted:
    """The difficulty the RL agent sees in training: for each training question, the score of a
    router fitted without it (k-fold), so the agent learns to trust the score only as much as
    it deserves on questions it has never seen; other text falls back to the full router."""

    def __init__(self, case: CaseStudy, full: Router, folds: int = 5, seed: int = 0) -> None:
        cache = EmbeddingCache()
        data = PairData.from_outcomes(case.table.frame, "device", "cloud")
        scores = np.zeros(len(data.prompts))
        for train, held in KFold(folds, shuffle=True, random_state=seed).split(np.arange(len(data.prompts))):
            scores[held] = _difficulty_router().fit(data.subset(train), cache).score(data.prompts.take(held), cache)
        self.by_id = dict(zip(data.prompts.prompt_ids.tolist(), scores.tolist(), strict=True))
        self.full = DifficultyScorer(full)

    def __call__(self, request: Request) -> float:
        found = self.by_id.get(request.prompt_id or "")
        return found if found is not None else self.full(request.last_user_text)


def make_env(conversations: int = 200, seed: int = 0, link: str = "5g", data_root: Path | None = None,
             latency_weight: float = LATENCY_WEIGHT, cost_weight: float = COST_WEIGHT,
             split: Split = "train", budget_state: bool = True) -> tuple[ConversationEnv, Router]:
    """The training environment: conversations from the train split only (evaluation uses test;
    with validation, training uses the train split's 'fit' part)."""
    profiles = endpoint_profiles()
    case = build_case_study(conversations, seed=seed + 1000, data_root=data_root, split=split)
    difficulty = train_difficulty(case)
    path = Link.from_profile(link, "robot", "cloud", link_profiles().require(link, "--link"))
    env = ConversationEnv(case, profiles[DEVICE_PROFILE], profiles[CLOUD_PROFILE], path, CrossFitted(case, difficulty, seed=seed),
                          latency_weight, cost_weight, budget_state=budget_state)
    return env, difficulty


def validation_env(train_env: ConversationEnv, conversations: int, seed: int, data_root: Path | None = None) -> ConversationEnv:
    """Conversations over the train split's held-out 'validation' questions (training saw none
    of them, so their difficulty score comes from the router as served), scored like training."""
    case = build_case_study(conversations, seed=seed + 2000, data_root=data_root, split="validation")
    return ConversationEnv(case, train_env.device, train_env.cloud, train_env.link, train_env.difficulty,
                           train_env.latency_weight, train_env.cost_weight, scorer=train_env.scorer,
                           budget_state=train_env.budget_state)


def train_rl(out: Path, steps: int = 30_000, seed: int = 0, conversations: int = 200, link: str = "5g",
             data_root: Path | None = None, latency_weight: float = LATENCY_WEIGHT, cost_weight: float = COST_WEIGHT,
             progress: Callable[[int], None] | None = None, validation: int = 100, eval_every: int = 2048,
             budget_state: bool = True) -> RLMeta:
    """Check the environment with gymnasium's checker, train, save policy and metadata. With
    `validation` conversations (0: none), the checkpoint with the best validation reward is
    kept (evaluated every `eval_every` steps; see rl_select)."""
    from gymnasium.utils.env_checker import check_env
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList

    from tierlink.learn.rl_select import BestOnValidation, validation_episodes

    env, difficulty = make_env(conversations, seed, link, data_root, latency_weight, cost_weight,
                               split="fit" if validation else "train", budget_state=budget_state)
    check_env(env, skip_render_check=True)
    selector = None
    if validation:
        selector = BestOnValidation(validation_env(env, validation, seed, data_root),
                                    validation_episodes(validation, seed), eval_every)

    class _Report(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None:
                progress(self.num_timesteps)
            return True

    model = MaskablePPO("MlpPolicy", env, seed=seed, n_steps=512, batch_size=128, gamma=0.9,
                        learning_rate=3e-4, ent_coef=0.01, verbose=0, device="cpu")
    model.learn(total_timesteps=steps, callback=CallbackList([_Report(), *([selector] if selector else [])]))
    if selector is not None:
        selector.restore()
        selector.env.close()
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    joblib.dump(difficulty, out / DIFFICULTY_FILE)
    meta = RLMeta(steps=steps, seed=seed, conversations=conversations, latency_weight=latency_weight,
                  cost_weight=cost_weight, obs_dim=OBS_DIM, actions=len(ACTIONS), link=link, tierlink_version=__version__,
                  validation_conversations=validation, best_step=selector.best_step if selector else None,
                  validation_reward=selector.best_reward if selector else None, budget_state=budget_state)
    (out / META_FILE).write_text(json.dumps(meta.model_dump(), indent=2), encoding="utf-8")
    env.close()
    return meta
