"""A team run's one account: every message between agents is a transfer over the link between
their nodes, and every model call an agent makes is a charge, in one Ledger.

A message is serialised as the JSON envelope that would cross the wire, so its byte count is
real; its link time follows the link model (simulated); its tokens are the receiver's input
tokens to read it (estimated from the text). What reading it costs is paid once, in the
receiver's next call's charge. A message may only cross an edge of the topology.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tierlink.agents.team import Team
from tierlink.agents.topology import Topology
from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.ledger import Charge, Ledger, Transfer
from tierlink.core.tokens import estimate_tokens
from tierlink.core.usage import Usage
from tierlink.network.link import Direction
from tierlink.trust.injection import InjectionDetector

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
    source: str = "agent"  # where the content came from: an agent's answer, a document, a tool
    tainted: bool = False  # traced to an injection (read as one, or sent by an agent that read one)

    @property
    def content(self) -> str:
        """What the receiver reads: the text, or the structured payload as JSON."""
        return self.text if self.data is None else json.dumps(self.data, ensure_ascii=False)

    def wire_bytes(self) -> int:
        """Size of the message's JSON envelope in UTF-8: the bytes its link crossing is timed for."""
        return len(self.model_dump_json().encode("utf-8"))


class Traffic:
    """Sends messages along a topology's edges, charges agents' calls, and keeps the run's notes;
    `now` is its own time cursor (seconds since the run began) for link outages."""

    def __init__(self, team: Team, topology: Topology, ledger: Ledger | None = None,
                 guard: InjectionDetector | None = None, quarantine: bool = True) -> None:
        self.team = team
        self.topology = topology
        self.ledger = ledger if ledger is not None else Ledger()
        self.notes: list[str] = []
        self.now = 0.0
        self.guard = guard  # set: a message that reads as an injection is tainted, and (quarantine) held back
        self.quarantine = quarantine
        self.quarantined: set[str] = set()
        self.tainted: dict[str, int] = {}  # agent -> the round it first sent or read tainted content

    def charge(self, agent: str, round: int, usage: Usage) -> None:
        """One model call of `agent`: the only place a team's dollars are recorded."""
        endpoint = self.team.agent(agent).endpoint
        self.ledger.charge(Charge(round=round, kind="agent", endpoint=endpoint.name, caller=agent, callee=agent, usage=usage))

    def spent(self) -> Usage:
        """Every call charged so far."""
        return self.ledger.spent()

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
        endpoint = self.team.agent(receiver).endpoint
        self.ledger.record(Transfer(
            time_s=self.now, round=message.round, sender=sender, receiver=receiver,
            link=link.name if link is not None else "local", tokens=estimate_tokens(message.content), bytes=size,
            seconds=seconds, endpoint=endpoint.name, origin="simulated", tainted=message.tainted,
        ))
        return message
