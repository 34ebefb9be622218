"""One self-routing training run end to end: trainable weights, the cloud's cached answers, the
RL loop, then the adapter exported for llama.cpp with what serving needs beside it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from tierlink.config.build import catalogue_endpoint
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.model_files import gguf_path
from tierlink.learn.self_routing.cloud_answers import cloud_answers
from tierlink.learn.self_routing.config import SelfTrainConfig, StepLog
from tierlink.learn.self_routing.lora_gguf import export_lora
from tierlink.learn.self_routing.tasks import TaskItem, grade_number, split_items
from tierlink.learn.self_routing.trainer import ADAPTER_DIR, SelfTrainer, system_for
from tierlink.learn.self_routing.weights import trainable_checkpoint

CLOUD_CACHE, SERVING_FILE, ADAPTER_GGUF = "cloud_answers.json", "self_route.json", "adapter.gguf"


class Serving(BaseModel):
    """What a deployment needs to serve the trained device (written as self_route.json)."""

    device: str
    adapter: str  # the LoRA adapter GGUF, for `endpoints.<device>.adapter`
    system: str  # the system turn it was trained with, for `endpoints.<device>.system`
    call_ratio: float  # the `self-route` policy's cap
    cloud: str
    steps: int


def task_split(config: SelfTrainConfig) -> tuple[list[TaskItem], list[TaskItem]]:
    """The run's `train_items` training items and its held-out test items (same seed, never overlapping)."""
    train, test = split_items(int(config.train_items / 0.7) + 1, seed=1000 + config.seed, levels=config.levels, ops=config.ops)
    return train[:config.train_items], test


def ask_cloud(config: SelfTrainConfig, items: list[TaskItem], out: Path,
              on_answer: Callable[[], None] | None = None) -> dict[str, bool]:
    """Whether the cloud answers each item right (asked once per item; cached in `out`)."""
    endpoint = catalogue_endpoint(config.cloud, "--cloud", node="cloud")
    answers = asyncio.run(cloud_answers(endpoint, items, out / CLOUD_CACHE, on_answer))
    return {item.prompt_id: grade_number(answers[item.prompt_id], item.gold) for item in items}


def self_train(config: SelfTrainConfig, out: Path, on_cloud: Callable[[], None] | None = None,
               on_step: Callable[[StepLog], None] | None = None) -> Serving:
    """Train (resuming if `out` holds a run of the same settings), export, and describe serving."""
    out.mkdir(parents=True, exist_ok=True)
    train, _ = task_split(config)
    cloud_correct = ask_cloud(config, train, out, on_cloud)
    trainer = SelfTrainer(config, trainable_checkpoint(config.device), train, cloud_correct, out)
    trainer.run(on_step)  # its last step is checkpointed (a finished run resumes with nothing to do)
    adapter = export_lora(out / ADAPTER_DIR, gguf_path(model_catalogue()[config.device]), out / ADAPTER_GGUF)
    serving = Serving(device=config.device, adapter=str(adapter), system=system_for(config),
                      call_ratio=config.call_ratio, cloud=config.cloud, steps=trainer.step)
    (out / SERVING_FILE).write_text(json.dumps(serving.model_dump(), indent=2), encoding="utf-8")
    return serving
