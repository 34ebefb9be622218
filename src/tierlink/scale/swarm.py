"""A swarm on the virtual clock: hundreds to thousands of device agents debating one question over
lossy, bandwidth-limited links that go down and come back.

Round-synchronous and event-timed. In each round every agent whose link is up answers (its time
from its device profile: the answers it read at prefill speed, its own at decode speed), then
sends to its readers over its own access link and theirs (time from the link model). A message
that is lost (`loss`), that meets an outage, or that arrives after the round's budget does not
arrive. An agent that is cut off answers alone, keeping its answer; with store-and-forward it
reconciles when back, receiving the latest answer of each source that tried to reach it.

Answers are replayed: agent i is recorded model i mod M (ZeroEval GSM8K's 42 models) on the
question, right or wrong as recorded. Two simulation assumptions, stated: a wrong answer is one of
`wrong_answers` values (a model's, fixed per question), and a revision takes the plurality of its
own answer and those it received (its own wins a tie). Every delivered message is a `Transfer` in
the ledger, the one accounting path.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.agents.topology import parse_topology
from tierlink.core.ledger import Ledger, Transfer
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.registry import link_profiles
from tierlink.scale.outages import random_trace
from tierlink.scale.recorded_agents import RecordedAgents, plurality_revision


class SwarmConfig(BaseModel):
    """One swarm run: who, over what, for how long, and how hostile the network is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: int = Field(1000, ge=2, le=100_000)
    rounds: int = Field(10, ge=1, le=1_000)
    topology: str = Field("sparse:4", description="agents.topology spec: sparse:K, ring, star, tree:B, full, ...")
    history: Literal["last_round", "full"] = Field("last_round", description="what a message carries: its sender's "
                                                   "latest answer, or every answer it gave so far")
    loss: float = Field(0.0, ge=0, lt=1, description="share of messages lost in the network")
    link: str = Field("4g", description="every agent's access link (a link profile)")
    device_profile: str = Field("phone/gemma3-1b-q4", description="every agent's hardware and model speed")
    outages_per_hour: float = Field(0.0, ge=0, description="gaps per agent-hour of link time (Poisson)")
    mean_outage_s: float = Field(30.0, gt=0, description="mean length of a gap (exponential)")
    round_budget_s: float = Field(20.0, gt=0, description="a message arriving later than this misses its round")
    store_and_forward: bool = Field(True, description="messages to a cut-off agent wait and arrive when it is back")
    wrong_answers: int = Field(3, ge=1, description="distinct wrong answers a question draws (a simulation assumption)")
    consensus: float = Field(0.9, gt=0.5, le=1, description="share of agents on one answer that counts as consensus")
    seed: int = 0


@dataclass(frozen=True)
class RoundStats:
    """What one round did: who agreed, what the network carried, lost and held."""

    round: int
    agreement: float  # the largest share of agents holding one answer
    correct: float  # the share holding the gold answer
    sent: int
    delivered: int
    lost: int
    late: int
    held: int  # sent into an outage: waiting (store-and-forward) or dropped
    reconciled: int  # held messages that arrived when their receiver came back
    offline: int  # agents cut off at the round's start
    bytes: int
    virtual_s: float  # the round's length on the virtual clock


@dataclass
class SwarmResult:
    """A swarm run's rounds, its ledger and its cost in wall and virtual time."""

    config: SwarmConfig
    question: str
    rounds: list[RoundStats] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    wall_s: float = 0.0
    virtual_s: float = 0.0

    @property
    def consensus_round(self) -> int | None:
        """The first round (0 = the first answers) where the consensus share agreed; None if never."""
        return next((r.round for r in self.rounds if r.agreement >= self.config.consensus), None)

    @property
    def offline_share(self) -> float:
        """The share of agent-rounds lost to outages (the agent cut off at the round's start)."""
        return sum(r.offline for r in self.rounds) / (self.config.agents * len(self.rounds))


def run_swarm(config: SwarmConfig, recorded: RecordedAgents, question: int = 0) -> SwarmResult:
    """Simulate `config` on one recorded question; deterministic for its seed."""
    started = time.perf_counter()
    rng = random.Random(config.seed)
    state = _Swarm(config, recorded, recorded.questions[question % len(recorded.questions)], rng)
    result = SwarmResult(config, state.question)
    result.ledger = state.ledger
    result.rounds.append(state.stats(0, sent=0, delivered=0, lost=0, late=0, held=0, reconciled=0, offline=0,
                                     n_bytes=0, seconds=0.0))
    for round_index in range(1, config.rounds + 1):
        result.rounds.append(state.round(round_index))
    result.virtual_s = state.clock.now()
    result.wall_s = time.perf_counter() - started
    return result


class _Swarm:
    """The state of a run between rounds: answers, links, readers, waiting messages."""

    def __init__(self, config: SwarmConfig, recorded: RecordedAgents, question: str, rng: random.Random) -> None:
        self.config, self.question, self.rng = config, question, rng
        self.names = [f"agent{i}" for i in range(config.agents)]
        index = {name: i for i, name in enumerate(self.names)}
        self.readers: list[list[int]] = [[] for _ in self.names]
        for sender, receiver in parse_topology(config.topology, self.names).edges:
            self.readers[index[sender]].append(index[receiver])
        self.profile = endpoint_profiles().require(config.device_profile, "device_profile")
        access = link_profiles().require(config.link, "link")
        horizon = config.rounds * config.round_budget_s * 2
        self.links = [Link.from_profile(f"{name}-access", name, "mesh", access,
                                        random_trace(rng, horizon, config.outages_per_hour, config.mean_outage_s))
                      for name in self.names]
        models = recorded.models_for(question)
        self.answers = [_first_answer(recorded, models[i % len(models)], question, config) for i in range(config.agents)]
        self.output_tokens = [recorded.output_tokens(models[i % len(models)], question) for i in range(config.agents)]
        self.read_tokens = [0] * config.agents  # tokens each agent read last round (its next prefill)
        self.waiting: dict[tuple[int, int], int] = {}  # (sender, receiver) -> latest answer held for a cut-off receiver
        self.clock = VirtualClock()
        self.ledger = Ledger()

    def round(self, r: int) -> RoundStats:
        """One round: reconcile the waiting messages, everyone online answers and sends, then revises."""
        start = self.clock.now()
        deadline = start + self.config.round_budget_s
        online = [link.is_up(start) for link in self.links]
        inbox: list[list[int]] = [[] for _ in self.names]
        counts: Counter[str] = Counter()
        self._reconcile(r, start, online, inbox, counts)
        finish = start
        read = [0] * len(self.names)
        for i, up in enumerate(online):
            if not up:
                continue
            send_at = start + self.read_tokens[i] / self.profile.prefill_tokens_per_s \
                + self.output_tokens[i] / self.profile.decode_tokens_per_s
            finish = max(finish, send_at)
            tokens = self.output_tokens[i] * (r if self.config.history == "full" else 1)
            for j in self.readers[i]:
                arrived = self._send(r, i, j, send_at, tokens, deadline, counts)
                if arrived is not None:
                    inbox[j].append(self.answers[i])
                    read[j] += tokens
                    finish = max(finish, arrived)
        self.read_tokens = read
        for j, heard in enumerate(inbox):
            if heard and online[j]:
                self.answers[j] = plurality_revision(self.answers[j], heard, self.rng)
        seconds = min(finish, deadline) - start
        self.clock.advance(seconds)
        return self.stats(r, sent=counts["sent"], delivered=counts["delivered"], lost=counts["lost"], late=counts["late"],
                          held=counts["held"], reconciled=counts["reconciled"], offline=online.count(False),
                          n_bytes=counts["bytes"], seconds=seconds)

    def _send(self, r: int, i: int, j: int, at: float, tokens: int, deadline: float, counts: Counter[str]) -> float | None:
        """One message from agent i to agent j; its arrival time, or None where it did not arrive."""
        counts["sent"] += 1
        size = tokens * CHARS_PER_TOKEN
        if self.rng.random() < self.config.loss:
            counts["lost"] += 1
            return None
        arrives = at + self.links[i].transfer_seconds(size, "up") + self.links[j].transfer_seconds(size, "down")
        if not (self.links[i].is_up(at) and self.links[j].is_up(arrives)):
            counts["held"] += 1
            if self.config.store_and_forward:
                self.waiting[(i, j)] = self.answers[i]
            return None
        if arrives > deadline:
            counts["late"] += 1
            return None
        self._record(r, i, j, at, tokens, arrives - at)
        counts["delivered"] += 1
        counts["bytes"] += size
        return arrives

    def _reconcile(self, r: int, start: float, online: list[bool], inbox: list[list[int]], counts: Counter[str]) -> None:
        """Held messages whose two ends are both back: delivered now, the latest per sender."""
        ready = [(i, j) for (i, j) in self.waiting if online[i] and online[j]]
        for i, j in ready:
            inbox[j].append(self.waiting.pop((i, j)))
            self._record(r, i, j, start, self.output_tokens[i], 0.0)
            counts["bytes"] += self.output_tokens[i] * CHARS_PER_TOKEN
        counts["reconciled"] += len(ready)

    def _record(self, r: int, i: int, j: int, at: float, tokens: int, seconds: float) -> None:
        self.ledger.record(Transfer.model_construct(
            time_s=at, round=r, sender=self.names[i], receiver=self.names[j], link=f"{self.links[i].name}+{self.links[j].name}",
            tokens=tokens, bytes=tokens * CHARS_PER_TOKEN, seconds=seconds, endpoint="simulated", origin="simulated",
            tainted=False))

    def stats(self, r: int, *, sent: int, delivered: int, lost: int, late: int, held: int, reconciled: int,
              offline: int, n_bytes: int, seconds: float) -> RoundStats:
        """The round's figures, with the agreement and correctness of the answers now held."""
        tally = Counter(self.answers)
        n = len(self.answers)
        return RoundStats(round=r, agreement=max(tally.values()) / n, correct=tally[0] / n, sent=sent, delivered=delivered,
                          lost=lost, late=late, held=held, reconciled=reconciled, offline=offline, bytes=n_bytes,
                          virtual_s=seconds)


def _first_answer(recorded: RecordedAgents, model: str, question: str, config: SwarmConfig) -> int:
    """0 (the gold answer) where the model was recorded right; else its wrong answer, 1..wrong_answers."""
    if recorded.correct(model, question):
        return 0
    return 1 + zlib.crc32(f"{model}|{question}|{config.seed}".encode()) % config.wrong_answers
