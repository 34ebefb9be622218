"""What a policy sees (TurnState) and what it answers (Action)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from tierlink.context.history import HistoryPlan
from tierlink.core.budget import Budget
from tierlink.core.messages import Completion, Message, Request
from tierlink.endpoints.profile import EndpointProfile
from tierlink.network.link import Link


class Action(BaseModel):
    """One routing decision for a turn."""

    model_config = ConfigDict(frozen=True)

    endpoint: str
    reason: str
    attachments: tuple[int, ...] | None = Field(
        None, description="Indices of request attachments to upload; None = let the session choose."
    )
    history: HistoryPlan | None = Field(None, description="None = the session's default plan.")
    draft: bool = Field(False, description="Cascade: run the device first, then decide again.")
    use_draft: bool = Field(False, description="Cascade: answer with the device draft already made.")
    samples: int = Field(0, ge=0, le=8, description="Cascade: extra sampled drafts for agreement.")
    self_check: bool = Field(False, description="Cascade: ask the device whether its draft is right.")
    overhead: Completion | None = Field(None, description="Deciding's own call (an LLM router's); the session charges it.")


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as a policy sees it this turn."""

    name: str
    profile: EndpointProfile
    is_device: bool
    reachable: bool
    allowed: bool  # data residency and modality permit sending this turn there
    holds_messages: int  # how much of this conversation the endpoint already has (prefix cache)
    link: Link | None = None  # None: in-process (the device itself)


@dataclass(frozen=True)
class TurnState:
    """Everything a policy may read to decide a turn."""

    turn: int
    request: Request
    history: tuple[Message, ...]
    budget: Budget
    spent_dollars: float
    spent_seconds: float
    endpoints: dict[str, EndpointView]
    device: str
    last_endpoint: str | None
    expected_turns: int
    draft: Completion | None = None
    answered_by: dict[str, int] = field(default_factory=dict)  # earlier turns of this session, per answering endpoint
    samples: tuple[Completion, ...] = ()
    self_check: Completion | None = None
    notes: tuple[str, ...] = field(default=())
    # The session's own check (residency, reachability, worst case within the budget left) for
    # an action this turn, so a policy can mask exactly what the session would refuse.
    admissible: Callable[[Action], bool] | None = field(default=None, compare=False, repr=False)

    def candidates(self) -> list[EndpointView]:
        """Endpoints the turn may go to now (reachable and allowed), device first."""
        views = [v for v in self.endpoints.values() if v.reachable and v.allowed]
        return sorted(views, key=lambda v: (not v.is_device, v.name))

    def remote_candidates(self) -> list[EndpointView]:
        """Reachable, allowed non-device endpoints, most capable (highest output price) first."""
        remote = [v for v in self.candidates() if not v.is_device]
        return sorted(remote, key=lambda v: (-v.profile.price_out_per_mtok, v.name))

    @property
    def remaining_turns(self) -> int:
        """Turns still expected, this one included (at least 1, so pacing never divides by 0)."""
        return max(1, self.expected_turns - self.turn + 1)
