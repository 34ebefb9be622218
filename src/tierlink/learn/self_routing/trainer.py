"""The training loop: sample G answers per prompt, reward them, filter the prompts, and take one
policy-gradient step with the leave-one-out group weights. Resumable from its last checkpoint."""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from tierlink.core.errors import TierlinkError
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.learn.self_routing.config import SelfTrainConfig, StepLog
from tierlink.learn.self_routing.estimator import group_weights
from tierlink.learn.self_routing.filtering import PromptGroup, filter_prompts, rho_for_call_ratio
from tierlink.learn.self_routing.policy_model import HELP_SYSTEM, LOCAL_SYSTEM, DevicePolicy
from tierlink.learn.self_routing.tasks import TaskItem, grade_number
from tierlink.routing.help_tag import HELP_TAG, asks_for_help

CHECKPOINT = "checkpoint"  # adapter, optimiser, random states and step, replaced as a whole
STATE_FILE, ADAPTER_DIR = f"{CHECKPOINT}/state.json", f"{CHECKPOINT}/adapter"
OPTIMIZER_FILE, RNG_FILE, LOG_FILE = "optimizer.pt", "rng.pt", "steps.jsonl"
WARMUP_LEARNING_RATE = 3e-4  # the format is learned in a few SFT steps; RL then runs at its own rate


def system_for(config: SelfTrainConfig) -> str:
    """The help tag is offered only when the policy may ask (task-tuning alone never sees it)."""
    return HELP_SYSTEM if config.help_action else LOCAL_SYSTEM


class SelfTrainer:
    """One run in `out`: the policy, its optimiser and the step log; `run` continues where it stopped."""

    def __init__(self, config: SelfTrainConfig, checkpoint: Path, items: list[TaskItem], cloud_correct: dict[str, bool],
                 out: Path) -> None:
        import torch

        missing = [item.prompt_id for item in items if item.prompt_id not in cloud_correct]
        if missing:
            raise TierlinkError(f"no cloud answer for {len(missing)} training prompts (e.g. {missing[0]}); ask the cloud first")
        self.config, self.items, self.cloud_correct, self.out = config, items, cloud_correct, out
        self.step = self._resume_step()
        saved = out / CHECKPOINT
        chat = model_catalogue().require(config.device, "--device").prompt_format == "chat"
        self.policy = DevicePolicy(checkpoint, config.lora, adapter=saved / "adapter" if self.step else None,
                                   seed=config.seed, chat=chat)
        self.optimizer = torch.optim.AdamW(self.policy.trainable_parameters(), lr=config.learning_rate, weight_decay=0.0)
        self.rng = random.Random(config.seed)
        if self.step:
            self.optimizer.load_state_dict(torch.load(saved / OPTIMIZER_FILE, weights_only=True))
            states = torch.load(saved / RNG_FILE, weights_only=False)  # written by this class only
            self.rng.setstate(states["python"])
            torch.set_rng_state(states["torch"])
        self.rho = rho_for_call_ratio(config.call_ratio)

    def _resume_step(self) -> int:
        """The last checkpoint's step (0 for a new run); the step log is cut back to it."""
        old = self.out / f"{CHECKPOINT}.old"
        if old.is_dir() and not (self.out / CHECKPOINT).is_dir():  # killed between the two renames
            old.rename(self.out / CHECKPOINT)
        state = self.out / STATE_FILE
        if not state.is_file():
            return 0
        saved = json.loads(state.read_text(encoding="utf-8"))
        if saved["config"] != self.config.model_dump(mode="json"):
            raise TierlinkError(f"{self.out} holds a run with other settings; use a new --out or the same settings to resume")
        step = int(saved["step"])
        log = self.out / LOG_FILE
        if log.is_file():
            kept = [line for line in log.read_text(encoding="utf-8").splitlines() if json.loads(line)["step"] <= step]
            log.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        return step

    def run(self, on_step: Callable[[StepLog], None] | None = None) -> list[StepLog]:
        """Train up to `config.steps` updates, checkpointing every `checkpoint_every` and at the end."""
        logs: list[StepLog] = []
        if self.step == 0 and self.config.warmup_steps:
            self.warm_up()
        while self.step < self.config.steps:
            log = self.update()
            logs.append(log)
            with (self.out / LOG_FILE).open("a", encoding="utf-8") as handle:
                handle.write(log.model_dump_json() + "\n")
            if self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps:
                self.checkpoint()
            if on_step is not None:
                on_step(log)
        return logs

    def warm_up(self) -> float:
        """Teach the format only (for a model that never emits the tag): the help tag as the answer
        to a random `call_ratio` share of prompts, chosen regardless of difficulty, and the untrained
        model's own greedy answer to the rest. Stops once the model's greedy answers carry the tag
        on half the cap's share, so RL starts from a model that mostly answers. Returns the steps taken."""
        import torch

        config = self.config
        rng = random.Random(config.seed + 7)
        optimizer = torch.optim.AdamW(self.policy.trainable_parameters(), lr=WARMUP_LEARNING_RATE, weight_decay=0.0)
        for step in range(config.warmup_steps):
            batch = rng.sample(self.items, min(config.prompts_per_step * config.group, len(self.items)))
            prompts = [self.policy.prompt_text(item.prompt, system_for(config)) for item in batch]
            now = self.policy.sample(prompts, 1, config.max_new_tokens, temperature=0.0).texts
            if sum(map(asks_for_help, now)) >= 0.5 * config.call_ratio * len(now):
                return step
            with self.policy.model.disable_adapter():  # targets from the untrained model: no feedback loop
                own = self.policy.sample(prompts, 1, config.max_new_tokens, temperature=0.0).texts
            answers = [HELP_TAG if rng.random() < config.call_ratio else text for text in own]
            forced = self.policy.teacher_forced(prompts, answers)
            loss = -self.policy.log_likelihood(forced, list(range(len(batch)))).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return config.warmup_steps

    def update(self) -> StepLog:
        """One batch: sample, reward, filter, one gradient step on the kept prompts."""
        started = time.perf_counter()
        config = self.config
        batch = self.rng.sample(self.items, min(config.prompts_per_step, len(self.items)))
        prompts = [self.policy.prompt_text(item.prompt, system_for(config)) for item in batch]
        samples = self.policy.sample(prompts, config.group, config.max_new_tokens, config.temperature)
        rewards, groups, asked_total, right_total = [], [], 0, 0
        for index, item in enumerate(batch):
            texts = samples.texts[index * config.group:(index + 1) * config.group]
            asked = [config.help_action and asks_for_help(t) for t in texts]
            local = [grade_number(t, item.gold) and not a for t, a in zip(texts, asked, strict=True)]
            cloud = self.cloud_correct[item.prompt_id]
            rewards.append([config.rewards.of(a, ok, cloud) for a, ok in zip(asked, local, strict=True)])
            groups.append(PromptGroup(local_correct=local, cloud_correct=cloud and config.help_action, asked=asked))
            asked_total, right_total = asked_total + sum(asked), right_total + sum(local)
        kept = filter_prompts(groups, self.rho, self.rng) if config.filtering else None
        chosen = kept.kept if kept is not None else list(range(len(batch)))
        loss_value = self._gradient_step(samples, rewards, chosen)
        self.step += 1
        n = len(batch) * config.group
        return StepLog(step=self.step, call_rate=asked_total / n, local_accuracy=right_total / n,
                       mean_reward=sum(map(sum, rewards)) / n, answerable=len(kept.answerable) if kept else len(chosen),
                       ask_worthy=len(kept.ask_worthy) if kept else 0, dropped=kept.dropped if kept else 0,
                       loss=loss_value, seconds=time.perf_counter() - started)

    def _gradient_step(self, samples, rewards: list[list[float]], chosen: list[int]) -> float:  # type: ignore[no-untyped-def]
        """-sum_i w_i log pi(y_i | x) over the kept prompts, averaged per prompt; no step if all weights are 0."""
        import torch

        group = self.config.group
        rows, weights = [], []
        for index in chosen:
            w = group_weights(rewards[index])
            if abs(w).sum() > 0:
                rows += list(range(index * group, (index + 1) * group))
                weights += w.tolist()
        if not rows:
            return 0.0
        log_likelihood = self.policy.log_likelihood(samples, rows)
        loss = -(torch.tensor(weights, dtype=log_likelihood.dtype, device=log_likelihood.device) * log_likelihood).sum() / len(chosen)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def checkpoint(self) -> None:
        """Adapter, optimiser, random states and step, written aside and then swapped in whole,
        so that a run killed at any moment resumes from one consistent checkpoint."""
        import torch

        partial, current, old = (self.out / f"{CHECKPOINT}{tail}" for tail in (".partial", "", ".old"))
        shutil.rmtree(partial, ignore_errors=True)
        self.policy.save(partial / "adapter")
        torch.save(self.optimizer.state_dict(), partial / OPTIMIZER_FILE)
        torch.save({"python": self.rng.getstate(), "torch": torch.get_rng_state()}, partial / RNG_FILE)
        (partial / "state.json").write_text(json.dumps({"step": self.step, "config": self.config.model_dump(mode="json")}),
                                            encoding="utf-8")
        shutil.rmtree(old, ignore_errors=True)
        if current.is_dir():
            current.rename(old)
        partial.rename(current)
        shutil.rmtree(old, ignore_errors=True)
