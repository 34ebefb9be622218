"""How likely the trained device is to ask, prompt by prompt: log P(the answer is the help tag
alone | prompt) under its policy. An answer that ends with the tag after other words is not
counted, so this is a lower bound on asking. Served answers are greedy, so a policy that asks on
15% of samples may never ask as served; ranking prompts by this probability shows whether RL
taught *where* to ask even when it did not teach *how often*. An analysis for benchmarks
(torch); serving reads the greedy tag."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.learn.self_routing.config import SelfTrainConfig
from tierlink.learn.self_routing.policy_model import DevicePolicy
from tierlink.learn.self_routing.tasks import TaskItem
from tierlink.learn.self_routing.trainer import ADAPTER_DIR, system_for
from tierlink.learn.self_routing.weights import trainable_checkpoint
from tierlink.routing.help_tag import HELP_TAG

BATCH = 32


def help_log_likelihoods(config: SelfTrainConfig, run: Path, items: Sequence[TaskItem]) -> list[float]:
    """log P(the answer is HELP_TAG alone | prompt) at temperature 1 under the run's adapter, per item."""
    import torch

    chat = model_catalogue().require(config.device, "--device").prompt_format == "chat"
    policy = DevicePolicy(trainable_checkpoint(config.device), config.lora, adapter=run / ADAPTER_DIR, chat=chat)
    scores: list[float] = []
    with torch.no_grad():
        for start in range(0, len(items), BATCH):
            prompts = [policy.prompt_text(item.prompt, system_for(config)) for item in items[start:start + BATCH]]
            forced = policy.teacher_forced(prompts, [HELP_TAG] * len(prompts))
            scores += policy.log_likelihood(forced, list(range(len(prompts)))).tolist()
    return scores
