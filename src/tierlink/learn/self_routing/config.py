"""What a self-routing training run is set to, and what each step measured."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from tierlink.learn.self_routing.policy_model import LoraSettings
from tierlink.learn.self_routing.rewards import Rewards


class SelfTrainConfig(BaseModel):
    """A run of the paper's method (or, with `help_action` or `filtering` off, its ablations)."""

    device: str = Field("smollm2-135m", description="catalogue model trained (`tierlink models`)")
    cloud: str = Field("qwen2.5-coder-1.5b", description="the endpoint asked for help (a catalogue model)")
    call_ratio: float = Field(0.3, ge=0, lt=1, description="cap on the share of prompts sent to the cloud")
    rewards: Rewards = Rewards()
    group: int = Field(4, ge=2, description="samples per prompt (G)")
    prompts_per_step: int = Field(8, ge=1)
    steps: int = Field(100, ge=1)
    learning_rate: float = Field(5e-5, gt=0, description="RL; at 3e-4 the call rate collapsed to 0 or 100% within 5-10 updates")
    max_new_tokens: int = Field(16, ge=1, description="the help tag is ~15 tokens; answers are numbers")
    temperature: float = Field(0.7, gt=0, description="sampling; at 1.0 a 135M model's samples are mostly noise")
    levels: tuple[int, ...] = Field((1, 2, 3), description="operand digits of the arithmetic task")
    ops: str = Field("+-", description="operations of the arithmetic task")
    seed: int = 0
    help_action: bool = Field(True, description="False: task-tuning only (no help tag offered, asking earns nothing)")
    filtering: bool = Field(True, description="False: update on every prompt (no adaptive filtering)")
    warmup_steps: int = Field(0, ge=0, description="format-only SFT steps before RL (for a model that never emits the tag)")
    train_items: int = Field(400, ge=8)
    checkpoint_every: int = Field(10, ge=1)
    lora: LoraSettings = LoraSettings()

    @model_validator(mode="after")
    def _warm_up_needs_the_tag(self) -> SelfTrainConfig:
        if self.warmup_steps and not self.help_action:
            raise ValueError("warmup_steps teaches the help tag; set it to 0 for task-tuning only (help_action off)")
        return self


class StepLog(BaseModel):
    """One update: how the sampled answers did and what the filter kept."""

    step: int
    call_rate: float  # share of samples ending with the help tag
    local_accuracy: float  # share of samples answered locally and right
    mean_reward: float
    answerable: int  # D1
    ask_worthy: int  # D2 kept
    dropped: int
    loss: float
    seconds: float
