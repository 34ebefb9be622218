"""What a sender transmits to one reader each round: its full history, its last round only, or
a summary — per edge — optionally compressed to a token cap at the sender.

Full history makes each message grow with the round, so full debate's traffic grows as
O(N^2 T^2); last-round-only keeps it O(N^2 T); a sparse topology cuts the N^2.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.agents.topology import Edge
from tierlink.core.tokens import CHARS_PER_TOKEN


class EdgeHistory(BaseModel):
    """How much of a sender's past answers crosses one edge."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["full", "last_round", "summary"] = "last_round"
    summary_tokens: int = Field(32, gt=0, description="summary: tokens kept from each earlier round")
    compress_tokens: int | None = Field(None, gt=0, description="cap on a message's tokens, cut at the sender")


class HistoryPolicy(BaseModel):
    """A default for every edge plus per-edge overrides."""

    model_config = ConfigDict(frozen=True)

    default: EdgeHistory = EdgeHistory()
    edges: dict[Edge, EdgeHistory] = {}

    def for_edge(self, sender: str, receiver: str) -> EdgeHistory:
        """The plan for sender -> receiver: its override where one is set, else the default."""
        return self.edges.get((sender, receiver), self.default)


def message_for(answers: list[str], plan: EdgeHistory) -> str:
    """The text a sender with `answers` (oldest first, latest last) sends under `plan`."""
    if not answers:
        return ""
    if plan.kind == "last_round":
        text = answers[-1]
    elif plan.kind == "full":
        text = "\n".join(f"(round {i + 1}) {a}" for i, a in enumerate(answers))
    else:
        earlier = [_cut(a, plan.summary_tokens) for a in answers[:-1]]
        text = "\n".join([*(f"(round {i + 1}, summary) {a}" for i, a in enumerate(earlier)),
                          f"(round {len(answers)}) {answers[-1]}"])
    return text if plan.compress_tokens is None else _cut(text, plan.compress_tokens)


def _cut(text: str, tokens: int) -> str:
    limit = tokens * CHARS_PER_TOKEN
    return text if len(text) <= limit else text[:limit].rstrip() + "…"
