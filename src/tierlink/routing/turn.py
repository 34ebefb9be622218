"""What a turn returns (TurnResult), what a session counts (SessionStats), where a resumed
session starts (Resumed), and the two outcomes of one call (Call, Miss)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from tierlink.context.history import HistoryPlan
from tierlink.core.budget import Budget
from tierlink.core.messages import Completion, Message
from tierlink.core.usage import Usage
from tierlink.routing.state import Action


class TurnResult(BaseModel):
    """What one turn did and cost; `usage` is the sum of the turn's charges."""

    model_config = ConfigDict(frozen=True)

    turn: int
    answer: str
    endpoint: str | None
    reason: str
    action: Action
    usage: Usage
    budget_left: Budget
    refused: bool = False
    over_budget: bool = False  # refused only because no call fitted the budget left
    partial: bool = False  # refused after part of an answer had streamed to the sink
    retry_after_s: float | None = None  # refused because every endpoint tried was busy: when to come back
    fallback: bool = False
    down_tier: bool = False  # answered lower down because the chosen call did not fit the budget left
    used_draft: bool = False
    attachments_sent: tuple[int, ...] = ()
    history_plan: HistoryPlan = Field(default_factory=HistoryPlan)
    latency_violation: bool = False  # a call of this turn took longer than the latency budget left
    completion: Completion | None = None


@dataclass
class SessionStats:
    """Counts over the session (violations must stay zero for dollars)."""

    turns: int = 0
    refusals: int = 0
    fallbacks: int = 0
    latency_violations: int = 0
    dollar_violations: int = 0
    held_back: int = 0  # turns the policy sent elsewhere that residency or a zone's rule kept from there
    by_endpoint: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Resumed:
    """Where a conversation stands whose earlier turns happened elsewhere (a gateway request
    carries the history; its spend and turn count come from the gateway's store)."""

    history: Sequence[Message] = ()
    spent: Usage = Usage()
    turns: int = 0
    last_endpoint: str | None = None


@dataclass(frozen=True)
class Miss:
    """Why a call did not happen or failed; `over_budget` when only the budget stood in the way."""

    why: str
    over_budget: bool = False
    partial: bool = False  # part of the answer had already gone to the sink: no fallback
    retry_after_s: float | None = None  # the endpoint was busy (queue full): when a slot should be free

    def __str__(self) -> str:
        return self.why


@dataclass(frozen=True)
class Call:
    """A completed call and what was actually sent."""

    completion: Completion
    sent: tuple[int, ...]
    plan: HistoryPlan
