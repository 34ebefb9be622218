"""Run routing policies over the case-study conversations and summarise them (paper Fig. 4).

Every conversation runs in its own Session on a virtual clock (simulated time), with the
paper's default budget of 30 s and $0.05 per conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from tierlink.bench.conversations import (
    MISSING_CONTEXT_FACTOR,
    MISSING_VIEW_FACTOR,
    VIEWS,
    CaseStudy,
    ConversationTurn,
    turn_request,
)
from tierlink.core.budget import Budget
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.network.clock import VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import RelevanceScorer
from tierlink.routing.session import Session, TurnResult
from tierlink.trust.zones import ZoneRules

PolicyFactory = Callable[[], Policy]
# the per-query policies of the case study with the parameters every benchmark runs them at
PER_QUERY_POLICIES: dict[str, dict[str, object]] = {
    "always-device": {}, "always-cloud": {}, "random": {"seed": 0},
    "threshold": {"difficulty": "reasoning", "threshold": 0.25},
    "cascade": {"min_logprob": None, "max_draft_tokens": 150}, "budget-pacing": {},  # recorded drafts: judged by length
}


class PolicySummary(BaseModel):
    """Means per conversation (latency, dollars) and per turn (quality) of one policy, and how
    often its budgets bind: enforced (turns refused or sent down-tier) and unconstrained (the
    same policy with no budget: how many conversations would have gone over)."""

    policy: str
    conversations: int
    turns: int
    mean_quality: float
    mean_latency_s: float
    mean_dollars: float
    cloud_share: float
    attachments_per_cloud_turn: float
    latency_over_budget: int  # conversations whose total time exceeded the latency budget
    dollar_over_budget: int  # must be 0: the reservation makes it impossible
    refusals: int
    fallbacks: int
    down_tier: int = 0  # turns answered lower down because the chosen call did not fit the budget left
    held_back: int = 0  # turns a zone rule kept from the cloud (personal data under `refuse`)
    redacted: int = 0  # personal data values sent to the cloud as tokens (`pseudonymise`)
    unconstrained_quality: float | None = None  # the same policy with no budget
    unconstrained_latency_s: float | None = None  # ... its mean seconds per conversation
    unconstrained_dollars: float | None = None  # ... its mean dollars per conversation
    unconstrained_over_latency: int | None = None  # ... conversations over the latency budget
    unconstrained_over_dollars: int | None = None  # ... conversations over the dollar budget
    unconstrained_over_any: int | None = None  # ... conversations over either
    origin: str = "quality replay; latency, dollars and the attachment effect simulated"


@dataclass
class _Tally:
    """Running counts over the conversations of one run."""

    qualities: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    dollars: list[float] = field(default_factory=list)
    cloud_turns: int = 0
    sent: int = 0
    refusals: int = 0
    fallbacks: int = 0
    down_tier: int = 0
    held_back: int = 0
    redacted: int = 0


async def run_policy(
    name: str,
    make: PolicyFactory,
    case: CaseStudy,
    budget: Budget,
    link: Link,
    device: EndpointProfile,
    cloud: EndpointProfile,
    scorer: RelevanceScorer,
    on_conversation: Callable[[], None] | None = None,
    unconstrained: bool = True,
    rules: ZoneRules | None = None,
) -> PolicySummary:
    """Every conversation in its own session under one policy, summarised (one row of Fig. 4);
    with `unconstrained`, the conversations run again without a budget to show where it binds;
    with `rules`, what may go to the cloud zone is limited (the privacy-utility knob)."""
    enforced = await _run(make, case, budget, link, device, cloud, scorer, on_conversation, rules)
    turns = len(enforced.qualities)
    summary = PolicySummary(
        policy=name, conversations=len(case.conversations), turns=turns,
        mean_quality=sum(enforced.qualities) / turns, mean_latency_s=_mean(enforced.latencies),
        mean_dollars=_mean(enforced.dollars), cloud_share=enforced.cloud_turns / turns,
        attachments_per_cloud_turn=enforced.sent / enforced.cloud_turns if enforced.cloud_turns else 0.0,
        latency_over_budget=_over(enforced.latencies, budget.latency_s),
        dollar_over_budget=_over(enforced.dollars, budget.dollars, 1e-12),
        refusals=enforced.refusals, fallbacks=enforced.fallbacks, down_tier=enforced.down_tier,
        held_back=enforced.held_back, redacted=enforced.redacted,
    )
    if not unconstrained:
        return summary
    free = await _run(make, case, Budget(), link, device, cloud, scorer, None, rules)
    over = [(s > (budget.latency_s or float("inf"))) or (d > (budget.dollars or float("inf")) + 1e-12)
            for s, d in zip(free.latencies, free.dollars, strict=True)]
    return summary.model_copy(update={
        "unconstrained_quality": sum(free.qualities) / len(free.qualities),
        "unconstrained_latency_s": _mean(free.latencies), "unconstrained_dollars": _mean(free.dollars),
        "unconstrained_over_latency": _over(free.latencies, budget.latency_s),
        "unconstrained_over_dollars": _over(free.dollars, budget.dollars, 1e-12),
        "unconstrained_over_any": sum(over),
    })


async def _run(make: PolicyFactory, case: CaseStudy, budget: Budget, link: Link, device: EndpointProfile,
               cloud: EndpointProfile, scorer: RelevanceScorer, on_conversation: Callable[[], None] | None,
               rules: ZoneRules | None = None) -> _Tally:
    tally = _Tally()
    for conversation in case.conversations:
        session = _session(make(), case, budget, link, device, cloud, scorer, len(conversation.turns), rules)
        for turn in conversation.turns:
            result = await session.ask(turn_request(turn))
            tally.qualities.append(turn_quality(turn, result))
            if result.endpoint == "cloud":
                tally.cloud_turns += 1
                tally.sent += len(result.attachments_sent)
            tally.refusals += int(result.refused)
            tally.fallbacks += int(result.fallback)
            tally.down_tier += int(result.down_tier or result.over_budget)
        tally.held_back += session.stats.held_back
        tally.redacted += sum(sum(c.entities.values()) for c in session.audit)
        tally.latencies.append(session.spent.latency.total_s)
        tally.dollars.append(session.spent.dollars)
        if on_conversation is not None:
            on_conversation()
    return tally


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _over(values: list[float], limit: float | None, slack: float = 0.0) -> int:
    """How many conversations spent more than `limit` (none without one)."""
    return 0 if limit is None else sum(v > limit + slack for v in values)


def turn_quality(turn: ConversationTurn, result: TurnResult) -> float:
    """Recorded score of the answering model; halved when a needed camera view was not seen, and
    halved when a follow-up reached a model without the turn it follows (history plan `none`)."""
    if result.refused or result.completion is None or result.completion.recorded_score is None:
        return 0.0
    score = result.completion.recorded_score
    if turn.view is not None:
        saw_view = result.endpoint == "cloud" and VIEWS.index(turn.view) in result.attachments_sent
        if not saw_view:
            score *= MISSING_VIEW_FACTOR
    if turn.follows_up and result.history_plan.kind == "none":
        score *= MISSING_CONTEXT_FACTOR
    return score


def _session(policy: Policy, case: CaseStudy, budget: Budget, link: Link, device: EndpointProfile,
             cloud: EndpointProfile, scorer: RelevanceScorer, turns: int, rules: ZoneRules | None = None) -> Session:
    clock = VirtualClock()
    endpoints = {
        "device": ReplayEndpoint("device", case.table, "device", device, "robot", price_from_profile=True),
        "cloud": LinkedEndpoint(ReplayEndpoint("cloud", case.table, "cloud", cloud, "cloud", price_from_profile=True), link, clock),
    }
    return Session(endpoints, "device", policy, budget, zones={"device": "device", "cloud": "cloud"},
                   expected_turns=turns, scorer=scorer, rules=rules)

