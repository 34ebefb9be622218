"""`tierlink route self-train`: post-train the device model to ask the cloud for help (RL, LoRA)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from tierlink.cli_fail import fail
from tierlink.core.errors import TierlinkError

TASKS = ("arithmetic",)


def self_train_command(
    out: Annotated[Path, typer.Option(help="Run directory: checkpoints, step log, adapter.gguf, self_route.json (a rerun resumes).")],
    device: Annotated[str, typer.Option(help="Catalogue model to train (`tierlink models`).")] = "smollm2-135m",
    cloud: Annotated[str, typer.Option(help="Catalogue model that answers when the device asks (asked once per prompt, cached).")] = "qwen2.5-coder-1.5b",
    task: Annotated[str, typer.Option(help="Training task: arithmetic (graded operand sizes).")] = "arithmetic",
    budget: Annotated[float, typer.Option(min=0, max=0.95, help="Cap on the share of prompts sent to the cloud.")] = 0.3,
    steps: Annotated[int, typer.Option(min=1, help="Policy-gradient updates.")] = 100,
    group: Annotated[int, typer.Option(min=2, help="Samples per prompt (G).")] = 4,
    prompts_per_step: Annotated[int, typer.Option(min=1, help="Prompts per update.")] = 8,
    alpha_cloud: Annotated[float, typer.Option(min=0, max=1, help="Reward of a call the cloud answers right (a right local answer earns 1).")] = 0.5,
    learning_rate: Annotated[float, typer.Option(min=0, help="RL learning rate (the warm-up uses its own, 3e-4).")] = 5e-5,
    warmup_steps: Annotated[int, typer.Option(min=0, help="Format-only SFT steps first (the tag on a random share of prompts), for a model that never emits it.")] = 10,
    train_items: Annotated[int, typer.Option(min=8, help="Training prompts (the cloud answers each once).")] = 400,
    seed: Annotated[int, typer.Option()] = 0,
    help_action: Annotated[bool, typer.Option("--offload/--task-only", help="--task-only: the same RL without the help tag (a baseline).")] = True,
    filtering: Annotated[bool, typer.Option(help="--no-filtering: update on every prompt (the ablation).")] = True,
) -> None:
    """Self-routing (arXiv 2509.24050): RL on the device model with a help tag under a call cap."""
    from tierlink.learn.self_routing.config import SelfTrainConfig
    from tierlink.learn.self_routing.rewards import Rewards
    from tierlink.learn.self_routing.run import self_train, task_split

    console = Console()
    try:
        if task not in TASKS:
            raise TierlinkError(f"--task must be one of {', '.join(TASKS)}, not '{task}'")
        config = SelfTrainConfig(device=device, cloud=cloud, call_ratio=budget, steps=steps, group=group,
                                 prompts_per_step=prompts_per_step, rewards=Rewards(alpha_cloud=alpha_cloud),
                                 learning_rate=learning_rate, seed=seed, help_action=help_action, filtering=filtering,
                                 warmup_steps=warmup_steps if help_action else 0, train_items=train_items)
        with Progress(console=console) as progress:
            asking = progress.add_task(f"cloud ({cloud}) answers, cached", total=len(task_split(config)[0]))
            training = progress.add_task("policy-gradient steps", total=steps)

            def on_step(log) -> None:  # type: ignore[no-untyped-def]
                progress.update(training, completed=log.step, description=(
                    f"step {log.step}: calls {log.call_rate:.0%}, local right {log.local_accuracy:.0%}, "
                    f"reward {log.mean_reward:.2f}"))

            serving = self_train(config, out, lambda: progress.advance(asking), on_step)
    except (TierlinkError, ValueError) as exc:
        fail(exc if isinstance(exc, TierlinkError) else TierlinkError(str(exc)))
    console.print(f"trained {serving.device} for {serving.steps} steps; adapter {serving.adapter}. Serve it with "
                  f"`endpoints.<device>.adapter: {serving.adapter}`, the system turn in {out / 'self_route.json'}, "
                  f"and policy `self-route` (params: call_ratio={serving.call_ratio})")
