"""TeamSpec: everything that defines a team run except the tasks (the CLI, MCP and YAML use it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from tierlink.agents.patterns.registry import team_patterns
from tierlink.trust.injection import InjectionDetector


class TeamSpec(BaseModel):
    """Everything that defines a team run except the tasks."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field("debate", description="a team pattern: debate, division or hierarchical")
    topology: str = "full"
    agents: int = Field(3, ge=1, le=64)
    rounds: int = Field(2, ge=0, le=20, description="debate: revision rounds; hierarchical: max steps")
    endpoints: list[str] = Field(default_factory=list, description="endpoint names, round-robin; default the device")
    lead_endpoint: str | None = Field(None, description="endpoint of the first agent (planner / supervisor / judge)")
    history: Literal["full", "last_round", "summary"] = "last_round"
    compress_tokens: int | None = Field(None, gt=0)
    consensus: float | None = Field(None, gt=0, le=1, description="debate: stop when this share agrees")
    max_tokens_total: int | None = Field(None, gt=0, description="stop when model tokens reach this")
    max_tokens: int = Field(48, gt=0, description="per model call")
    judge: bool = False
    guard: Literal["off", "quarantine", "mark", "trusted"] = Field("off", description=(
        "injection guard on messages between agents: 'quarantine' holds back one that reads as an injection and "
        "its sender; 'mark' passes it on tainted (the ledger knows its readers); 'trusted' (hierarchical) marks, "
        "and the supervisor decides on untainted observations only"))
    _detector: InjectionDetector | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _guard_fits_pattern(self) -> TeamSpec:
        if self.guard == "trusted" and self.pattern != "hierarchical":
            raise ValueError("guard 'trusted' is a supervisor's rule: use it with pattern hierarchical, or 'mark'")
        if self.guard != "off" and self.pattern == "division":
            raise ValueError("the division pattern has no guard yet: use debate or hierarchical, or guard 'off'")
        return self

    def detector(self) -> InjectionDetector | None:
        """The injection detector this spec's runs share (trained once, on first use); None when off."""
        if self.guard == "off":
            return None
        if self._detector is None:
            self._detector = InjectionDetector()
        return self._detector

    @field_validator("pattern")
    @classmethod
    def _known_pattern(cls, name: str) -> str:
        patterns = team_patterns()
        if name not in patterns:
            raise ValueError(f"unknown team pattern '{name}': {patterns.fix()}")
        return name
