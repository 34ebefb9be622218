"""A cloud coordinator scheduling a fleet's request streams under latency budgets (Sec. VI-A),
discrete-event on the virtual clock.

Every device agent sends questions as a Poisson stream; each must be answered within its latency
budget. An agent answers on its own device (one request at a time, phone speed) or offloads to
the cloud, whose coordinator runs a bounded number of requests at once (`cloud_slots`) and
queues the rest earliest-deadline-first. Links are the agents' own access links, with outages.

Policies: `local` (never offload), `cloud` (always offload; a cut-off agent waits for its link),
`coordinator` (offload only when the coordinator's estimate of the finish, from its queue and a
mean service time, meets the deadline and the link is up; otherwise answer alone: autonomy in a
gap). Answers come from an `Answerer`: replayed outcomes, or live models (`streams_live`).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.ledger import Charge, Ledger, Transfer
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.core.usage import Usage
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.availability import AvailabilityTrace, Outage
from tierlink.network.link import Link
from tierlink.network.registry import link_profiles
from tierlink.scale.outages import random_trace

Where = Literal["device", "cloud"]
StreamPolicy = Literal["local", "cloud", "coordinator"]
CONTROL_BYTES = 200  # an offload request's envelope and the coordinator's accept, each way


class StreamConfig(BaseModel):
    """A fleet's streams: how many agents, how often they ask, how long an answer may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: int = Field(1000, ge=1, le=100_000)
    horizon_s: float = Field(600.0, gt=0, description="requests arrive during [0, horizon_s)")
    requests_per_agent_per_min: float = Field(1.0, gt=0)
    latency_budget_s: float = Field(10.0, gt=0)
    cloud_slots: int = Field(32, ge=1, description="requests the cloud answers at once")
    link: str = "4g"
    device_profile: str = "phone/gemma3-1b-q4"
    cloud_profile: str = "gpt-4o"
    prompt_tokens: int = Field(120, ge=1, description="a question's length (GSM8K's are about 120 tokens)")
    expected_output_tokens: int = Field(250, ge=1, description="the coordinator's estimate of an answer's length")
    outages_per_hour: float = Field(0.0, ge=0)
    mean_outage_s: float = Field(30.0, gt=0)
    shared_outages: tuple[Outage, ...] = Field((), description="gaps every agent's link has (a tunnel on the route)")
    seed: int = 0


@dataclass(frozen=True)
class Answer:
    """One answer: right or not, its length, and (live) the seconds it really took."""

    right: bool
    output_tokens: int
    seconds: float | None = None


class Answerer(Protocol):
    """Who answers a question where: recorded outcomes, or real models."""

    def answer(self, where: Where, question: int) -> Awaitable[Answer]:
        """The answer to question `question` (an index) on the device or in the cloud."""
        ...


@dataclass
class Served:
    """One request's fate."""

    agent: int
    arrived_s: float
    where: Where
    finished_s: float
    right: bool
    budget_s: float

    @property
    def on_time(self) -> bool:
        """Answered within its latency budget."""
        return self.finished_s - self.arrived_s <= self.budget_s + 1e-9


@dataclass
class StreamResult:
    """Every request's fate, and the fleet's ledger of what crossed the links."""

    config: StreamConfig
    policy: StreamPolicy
    served: list[Served] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)

    def figures(self) -> dict[str, float]:
        """On-time share, right-and-on-time share, cloud share, latency percentiles, dollars."""
        n = max(1, len(self.served))
        latencies = sorted(s.finished_s - s.arrived_s for s in self.served)
        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
        return {"requests": len(self.served), "on_time": sum(s.on_time for s in self.served) / n,
                "right_on_time": sum(s.on_time and s.right for s in self.served) / n,
                "cloud": sum(s.where == "cloud" for s in self.served) / n, "p50_s": pct(0.5), "p95_s": pct(0.95),
                "dollars": self.ledger.spent().dollars}


def arrivals(config: StreamConfig, rng: random.Random) -> list[tuple[float, int]]:
    """Every agent's Poisson request times over the horizon, in time order: (time, agent)."""
    rate = config.requests_per_agent_per_min / 60.0
    times = []
    for agent in range(config.agents):
        t = rng.expovariate(rate)
        while t < config.horizon_s:
            times.append((t, agent))
            t += rng.expovariate(rate)
    return sorted(times)


@dataclass(order=True)
class _Offload:
    """A request on its way to, waiting at, or answered by the cloud (ordered by deadline)."""

    deadline: float
    agent: int = field(compare=False)
    arrived_s: float = field(compare=False)
    question: int = field(compare=False)
    at_cloud: float = field(compare=False)
    answer: Answer | None = field(default=None, compare=False)


class _Fleet:
    """Links, device queues and the cloud's slots and queue: the state the events change."""

    def __init__(self, config: StreamConfig, rng: random.Random, answerer: Answerer, result: StreamResult) -> None:
        self.config, self.answerer, self.result = config, answerer, result
        access = link_profiles().require(config.link, "link")
        horizon = config.horizon_s * 3
        self.links = [Link.from_profile(f"agent{i}-access", f"agent{i}", "cloud", access, AvailabilityTrace(outages=(
            *random_trace(rng, horizon, config.outages_per_hour, config.mean_outage_s).outages, *config.shared_outages)))
            for i in range(config.agents)]
        profiles = endpoint_profiles()
        self.device: EndpointProfile = profiles.require(config.device_profile, "device_profile")
        self.cloud: EndpointProfile = profiles.require(config.cloud_profile, "cloud_profile")
        self.device_free = [0.0] * config.agents  # when each agent's device is next idle
        self.busy: list[float] = []  # when each busy cloud slot frees (a heap)
        self.waiting: list[_Offload] = []  # at the cloud, earliest deadline first (a heap)
        self.committed = 0  # offloads accepted and not yet in service (in transit or waiting)
        self.events: list[tuple[float, int, str, _Offload]] = []
        self.sequence = 0

    def seconds(self, profile: EndpointProfile, output_tokens: int) -> float:
        """Modelled time to answer on `profile`: first token, prefill of the question, decode."""
        return profile.ttft_s + self.config.prompt_tokens / profile.prefill_tokens_per_s + output_tokens / profile.decode_tokens_per_s

    def up_at(self, agent: int, t: float) -> float:
        """When the agent's link is next up, from t (t itself if it is up)."""
        return self.links[agent].availability.next_up(t)

    def push(self, t: float, kind: str, offload: _Offload) -> None:
        """An event at time t (ties in the order they were made)."""
        self.sequence += 1
        heapq.heappush(self.events, (t, self.sequence, kind, offload))

    def fits(self, agent: int, t: float) -> bool:
        """The coordinator's estimate from what it knows (its slots' finish times, the offloads it
        has accepted, a mean answer length): does an offload made now meet the budget?"""
        config, link = self.config, self.links[agent]
        at_cloud = t + link.transfer_seconds(config.prompt_tokens * CHARS_PER_TOKEN + CONTROL_BYTES, "up")
        service = self.seconds(self.cloud, config.expected_output_tokens)
        ahead, slots = self.committed, config.cloud_slots
        frees = sorted(self.busy) + [t] * (slots - len(self.busy))
        start = max(at_cloud, frees[ahead % slots] + (ahead // slots) * service)
        finish = start + service + link.transfer_seconds(config.expected_output_tokens * CHARS_PER_TOKEN, "down")
        return finish - t <= config.latency_budget_s

    async def local(self, agent: int, t: float, question: int) -> None:
        """On the agent's own device, after the requests it is already answering."""
        start = max(t, self.device_free[agent])
        answer = await self.answerer.answer("device", question)
        finished = start + (answer.seconds if answer.seconds is not None else self.seconds(self.device, answer.output_tokens))
        self.device_free[agent] = finished
        _charge(self.result, agent, "device", self.device, self.config.prompt_tokens, answer.output_tokens)
        self.result.served.append(Served(agent, t, "device", finished, answer.right, self.config.latency_budget_s))

    def offload(self, agent: int, t: float, question: int) -> None:
        """Up the agent's link once it is up; the request reaches the cloud later (an event)."""
        config, link = self.config, self.links[agent]
        sent = self.up_at(agent, t)
        up_bytes = config.prompt_tokens * CHARS_PER_TOKEN + CONTROL_BYTES
        at_cloud = sent + link.transfer_seconds(up_bytes, "up")
        _send(self.result, sent, f"agent{agent}", "cloud", link.name, up_bytes, at_cloud - sent)
        self.committed += 1
        self.push(at_cloud, "at_cloud", _Offload(t + config.latency_budget_s, agent, t, question, at_cloud))

    async def at_cloud(self, t: float, offload: _Offload) -> None:
        """Served at once by a free slot, or queued by deadline."""
        if len(self.busy) < self.config.cloud_slots:
            await self._serve(t, offload)
        else:
            heapq.heappush(self.waiting, offload)

    async def done(self, t: float, offload: _Offload) -> None:
        """The answer goes down the link (once it is up); the slot takes the next deadline."""
        heapq.heappop(self.busy)
        assert offload.answer is not None
        link, down_bytes = self.links[offload.agent], offload.answer.output_tokens * CHARS_PER_TOKEN
        back = self.up_at(offload.agent, t)
        finished = back + link.transfer_seconds(down_bytes, "down")
        _send(self.result, back, "cloud", f"agent{offload.agent}", link.name, down_bytes, finished - back)
        self.result.served.append(Served(offload.agent, offload.arrived_s, "cloud", finished, offload.answer.right,
                                         self.config.latency_budget_s))
        if self.waiting:
            await self._serve(t, heapq.heappop(self.waiting))

    async def _serve(self, t: float, offload: _Offload) -> None:
        self.committed -= 1
        offload.answer = answer = await self.answerer.answer("cloud", offload.question)
        done = t + (answer.seconds if answer.seconds is not None else self.seconds(self.cloud, answer.output_tokens))
        heapq.heappush(self.busy, done)
        _charge(self.result, offload.agent, "cloud", self.cloud, self.config.prompt_tokens, answer.output_tokens)
        self.push(done, "done", offload)


async def run_streams(config: StreamConfig, policy: StreamPolicy, answerer: Answerer, questions: int) -> StreamResult:
    """Every request of the fleet through `policy`, as events in time order on the virtual
    clock; deterministic for the config's seed."""
    rng = random.Random(config.seed)
    result = StreamResult(config, policy)
    fleet = _Fleet(config, rng, answerer, result)
    for t, agent in arrivals(config, rng):
        fleet.push(t, "arrival", _Offload(0.0, agent, t, rng.randrange(questions), 0.0))
    while fleet.events:
        t, _, kind, item = heapq.heappop(fleet.events)
        if kind == "arrival":
            up = fleet.links[item.agent].is_up(t)
            if policy == "cloud" or (policy == "coordinator" and up and fleet.fits(item.agent, t)):
                fleet.offload(item.agent, t, item.question)
            else:  # a refused offload costs the agent the round trip to hear so
                delay = fleet.links[item.agent].rtt_ms / 1000 if policy == "coordinator" and up else 0.0
                await fleet.local(item.agent, t + delay, item.question)
        elif kind == "at_cloud":
            await fleet.at_cloud(t, item)
        else:
            await fleet.done(t, item)
    return result


def _send(result: StreamResult, at: float, sender: str, receiver: str, link: str, n_bytes: int, seconds: float) -> None:
    result.ledger.record(Transfer.model_construct(
        time_s=at, round=0, sender=sender, receiver=receiver, link=link, tokens=n_bytes // CHARS_PER_TOKEN, bytes=n_bytes,
        seconds=seconds, endpoint="cloud", origin="simulated", tainted=False))


def _charge(result: StreamResult, agent: int, where: Where, profile: EndpointProfile, prompt: int, output: int) -> None:
    usage = Usage(input_tokens=prompt, output_tokens=output, dollars=profile.dollars(prompt, output, 0))
    result.ledger.charge(Charge.model_construct(round=0, kind="answer", endpoint=where, caller=f"agent{agent}",
                                                callee=where, usage=usage))
