"""Every message between agents is a transfer over the link between their nodes, in a Ledger.

A message is serialised as the JSON envelope that would cross the wire, so its byte count is
real; its link time follows the link model (simulated); its tokens are the receiver's input
tokens to read it (estimated from the text) and its dollars what the receiver's provider
charges for them. A message may only cross an edge of the topology.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tierlink.agents.team import Team
from tierlink.agents.topology import Topology
from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.ledger import Ledger, Transfer
from tierlink.core.tokens import estimate_tokens
from tierlink.network.link import Direction

MessageKind = Literal["answer", "plan", "subtask", "result", "assignment", "observation", "verdict"]


class MissingEdge(TierlinkError):
    """A pattern tried to send over an edge the topology does not have (a bug, never silent)."""


class AgentMessage(BaseModel):
    """What one agent sends another: free text or a structured (pydantic) payload as a dict."""

    model_config = ConfigDict(frozen=True)

    round: int
    sender: str
    receiver: str
    kind: MessageKind
    text: str = ""
    data: dict[str, Any] | None = None

    @property
    def content(self) -> str:
        """What the receiver reads: the text, or the structured payload as JSON."""
        return self.text if self.data is None else json.dumps(self.data, ensure_ascii=False)

    def wire_bytes(self) -> int:
        return len(self.model_dump_json().encode("utf-8"))


class Traffic:
    """Sends messages along a topology's edges and records each one; `now` is its own time cursor
    (seconds since the run began) against which link outages are checked."""

    def __init__(self, team: Team, topology: Topology, ledger: Ledger | None = None) -> None:
        self.team = team
        self.topology = topology
        self.ledger = ledger if ledger is not None else Ledger()
        self.now = 0.0

    def send(self, message: AgentMessage) -> AgentMessage:
        """Record `message`; raises MissingEdge off the topology and LinkDown on a cut link."""
        sender, receiver = message.sender, message.receiver
        if not self.topology.has_edge(sender, receiver):
            raise MissingEdge(f"no edge {sender} -> {receiver} in {self.topology.kind}")
        link = self.team.link(sender, receiver)
        if link is not None and not link.is_up(self.now):
            raise LinkDown(link.name, self.now, None)
        size = message.wire_bytes()
        seconds = 0.0
        if link is not None:
            direction: Direction = "up" if self.team.agent(sender).node.name == link.a else "down"
            seconds = link.transfer_seconds(size, direction)
        tokens = estimate_tokens(message.content)
        endpoint = self.team.agent(receiver).endpoint
        self.ledger.record(Transfer(
            time_s=self.now, round=message.round, sender=sender, receiver=receiver,
            link=link.name if link is not None else "local", tokens=tokens, bytes=size, seconds=seconds,
            dollars=tokens * endpoint.profile.price_in_per_mtok / 1e6, endpoint=endpoint.name, origin="simulated",
        ))
        return message
