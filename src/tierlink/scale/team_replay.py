"""Team runs replayed from recorded outcomes: debate over any topology, a plain vote, and an
orchestrator's asks. Each is a TeamResult whose ledger holds every message and model call, so
`agents.pruning` and every report read it as they read a live run.

Agent i is recorded model `models[i]`, right or wrong on the question as recorded. Simulation
assumptions, stated (the same as `scale.swarm`): a wrong answer is one of `wrong_answers` values
(fixed per model and question), and a revision is the plurality of the reviser's own answer and
those it heard (`plurality_revision`). A message is as long as its sender's recorded answer (times
the answers it carries under the full history). The answers the final count reads reach the
coordinator as one message each, in every method, so no method's aggregation is free.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tierlink.agents.patterns.debate import majority
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.topology import Topology
from tierlink.core.ledger import Charge, Ledger, Transfer
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.core.usage import Usage
from tierlink.scale.recorded_agents import RecordedAgents, plurality_revision

COORDINATOR = "coordinator"
GOLD = "right"  # the gold answer's label; a wrong one is "wrong1".."wrongN"
RIGHT_ANSWER = f"answer {GOLD}"  # what an agent says when its model was recorded right
History = Literal["last_round", "full"]


@dataclass(frozen=True)
class ReplayTeam:
    """K agents, one recorded model each, answering recorded questions."""

    recorded: RecordedAgents
    models: tuple[str, ...]
    wrong_answers: int = 3
    seed: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """The agents' names, a0..aK-1 (agent i is models[i])."""
        return tuple(f"a{i}" for i in range(len(self.models)))

    def task(self, question: str) -> Task:
        """The question as a graded task."""
        return Task(id=question, question=question, gold=GOLD)

    def first_answer(self, i: int, question: str) -> str:
        """Agent i's own answer: the gold label where its model was recorded right."""
        model = self.models[i]
        if self.recorded.correct(model, question):
            return RIGHT_ANSWER
        return f"answer wrong{1 + zlib.crc32(f'{model}|{question}|{self.seed}'.encode()) % self.wrong_answers}"

    def output_tokens(self, i: int, question: str) -> int:
        """How long agent i's recorded answer is, in tokens."""
        return self.recorded.output_tokens(self.models[i], question)

    def prompt_tokens(self, question: str) -> int:
        """The question's length in tokens (0 where the table has no prompt text)."""
        return self.recorded.prompt_tokens.get(question, 0)


class _Run:
    """One replayed run's ledger, written the way live runs write theirs."""

    def __init__(self, team: ReplayTeam, question: str) -> None:
        self.team, self.question, self.ledger = team, question, Ledger()

    def call(self, r: int, i: int, read_tokens: int) -> None:
        """Agent i's model call: the question and what it read in, its recorded answer out."""
        usage = Usage(input_tokens=self.team.prompt_tokens(self.question) + read_tokens,
                      output_tokens=self.team.output_tokens(i, self.question))
        name = self.team.names[i]
        self.ledger.charge(Charge.model_construct(round=r, kind="answer", endpoint=self.team.models[i], caller=name,
                                                  callee=name, usage=usage))

    def send(self, r: int, sender: str, receiver: str, tokens: int) -> None:
        """One delivered message of `tokens` tokens (replayed runs lose none)."""
        self.ledger.record(Transfer.model_construct(
            time_s=0.0, round=r, sender=sender, receiver=receiver, link="replay", tokens=tokens,
            bytes=tokens * CHARS_PER_TOKEN, seconds=0.0, endpoint="replay", origin="replay", tainted=False))

    def collect(self, r: int, answers: dict[str, str], sizes: dict[str, int]) -> str:
        """The final count: every answer read reaches the coordinator; the plurality wins."""
        for name in answers:
            self.send(r, name, COORDINATOR, sizes[name])
        return majority(answers)


def replay_debate(team: ReplayTeam, question: str, topology: Topology, rounds: int,
                  history: History = "last_round") -> TeamResult:
    """Debate: everyone answers, then `rounds` times each agent reads its sources and revises
    (rounds=0 is a plain vote)."""
    rng = random.Random(zlib.crc32(f"{question}|{team.seed}".encode()))
    names = team.names
    run = _Run(team, question)
    answers = {name: team.first_answer(i, question) for i, name in enumerate(names)}
    sizes = {name: team.output_tokens(i, question) for i, name in enumerate(names)}
    for i in range(len(names)):
        run.call(0, i, 0)
    per_round = [dict(answers)]
    for r in range(1, rounds + 1):
        carried = {name: sizes[name] * (r if history == "full" else 1) for name in names}
        revised = {}
        for i, name in enumerate(names):
            sources = topology.sources(name)
            for source in sources:
                run.send(r, source, name, carried[source])
            run.call(r, i, sum(carried[s] for s in sources))
            revised[name] = plurality_revision(answers[name], [answers[s] for s in sources], rng)
        answers = revised
        per_round.append(dict(answers))
    final = run.collect(rounds + 1, answers, sizes)
    return TeamResult(task=team.task(question), pattern="debate" if rounds else "vote", topology=topology.kind,
                      answer=final, rounds=rounds + 1, stopped_because="max rounds", answers=per_round,
                      ledger=run.ledger, wall_s=0.0)


def replay_asks(team: ReplayTeam, question: str, asked: Sequence[int], stopped_because: str = "stopped") -> TeamResult:
    """An orchestrator's run: the agents in `asked` answer alone, one a round, each answer one
    message to the coordinator, which takes the plurality (the earliest asked wins a tie)."""
    if not asked:
        raise ValueError("an orchestrated run asks at least one agent")
    names = team.names
    run = _Run(team, question)
    answers: dict[str, str] = {}
    per_round = []
    for r, i in enumerate(asked):
        run.call(r, i, 0)
        answers[names[i]] = team.first_answer(i, question)
        run.send(r, names[i], COORDINATOR, team.output_tokens(i, question))
        per_round.append(dict(answers))
    return TeamResult(task=team.task(question), pattern="orchestrated", topology="star", answer=majority(answers),
                      rounds=len(asked), stopped_because=stopped_because, answers=per_round, ledger=run.ledger, wall_s=0.0)
