"""History plans: how much of the conversation travels with a turn to the endpoint answering it.

`full` sends everything, `last_k` the last k exchanges, `summary` a summary (written by the
device model) in place of older turns, `none` only the new message. Switching endpoints mid
conversation makes this a real trade-off: more context costs uplink bytes and prompt tokens.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.messages import Message

PlanKind = Literal["full", "last_k", "summary", "none"]


class HistoryPlan(BaseModel):
    """Which part of the history goes with a request."""

    model_config = ConfigDict(frozen=True)

    kind: PlanKind = "full"
    k: int = Field(2, ge=1, description="Exchanges kept by last_k (and after a summary).")

    def label(self) -> str:
        """Short name for reports and tables (`last_2`, `full`, ...)."""
        return f"last_{self.k}" if self.kind == "last_k" else self.kind


def plan_messages(
    history: tuple[Message, ...], new: tuple[Message, ...], plan: HistoryPlan, summary: str | None = None
) -> tuple[Message, ...]:
    """The messages to send: system messages always travel, then the planned history, then `new`."""
    system = tuple(m for m in history if m.role == "system")
    turns = tuple(m for m in history if m.role != "system")
    if plan.kind == "full":
        kept = turns
    elif plan.kind == "none":
        kept = ()
    elif plan.kind == "last_k":
        kept = _last_exchanges(turns, plan.k)
    else:
        recent = _last_exchanges(turns, plan.k)
        older = turns[: len(turns) - len(recent)]
        note = (Message(role="system", content=f"Summary of the earlier conversation: {summary}"),) if older and summary else ()
        kept = note + recent
    return system + kept + new


def _last_exchanges(turns: tuple[Message, ...], k: int) -> tuple[Message, ...]:
    """The last k user messages with everything after each of them."""
    starts = [i for i, m in enumerate(turns) if m.role == "user"]
    if len(starts) <= k:
        return turns
    return turns[starts[-k]:]
