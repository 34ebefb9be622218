"""What a team run returns: the answer, how it got there, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from tierlink.core.grading import grade
from tierlink.core.ledger import Ledger
from tierlink.core.usage import Usage


class Task(BaseModel):
    """One task for a team; `gold` (when known) lets the run be graded."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    gold: str | None = None


@dataclass
class TeamResult:
    """The final answer, each round's answers by agent, model usage by agent, and the traffic."""

    task: Task
    pattern: str
    topology: str
    answer: str
    rounds: int
    stopped_because: str
    answers: list[dict[str, str]]  # one dict (agent -> answer) per round
    ledger: Ledger  # the run's one account: messages (transfers) and model calls (charges)
    wall_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool | None:
        """The answer graded against the task's gold answer; None without one."""
        return None if self.task.gold is None else bool(grade(self.answer, self.task.gold))

    @property
    def usage(self) -> dict[str, Usage]:
        """Model calls by agent, from the ledger's charges (messages read are part of their input tokens)."""
        agents = dict.fromkeys(c.caller for c in self.ledger.charges)
        return {agent: self.ledger.spent(lambda c, a=agent: c.caller == a) for agent in agents}

    @property
    def total_usage(self) -> Usage:
        """Every model call of the run added up, straight from the ledger's charges."""
        return self.ledger.spent()

    def summary(self) -> dict[str, object]:
        """Flat figures for tables and JSON output."""
        traffic = self.ledger.total()
        model = self.total_usage
        return {
            "task": self.task.id, "pattern": self.pattern, "topology": self.topology, "rounds": self.rounds,
            "stopped_because": self.stopped_because, "answer": self.answer, "correct": self.correct,
            "model_tokens": model.input_tokens + model.output_tokens, "model_dollars": model.dollars,
            "messages": traffic.transfers, "message_tokens": traffic.tokens, "message_bytes": traffic.bytes,
            "link_seconds": traffic.seconds, "wall_s": self.wall_s, "notes": list(self.notes),
        }
