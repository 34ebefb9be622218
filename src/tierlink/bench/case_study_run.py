"""Run routing policies over the case-study conversations and summarise them (paper Fig. 4).

Every conversation runs in its own Session on a virtual clock (simulated time), with the
paper's default budget of 30 s and $0.05 per conversation.
"""

from __future__ import annotations

from collections.abc import Callable

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

PolicyFactory = Callable[[], Policy]


class PolicySummary(BaseModel):
    """Means per conversation (latency, dollars) and per turn (quality) of one policy."""

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
    origin: str = "quality replay; latency, dollars and the attachment effect simulated"


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
) -> PolicySummary:
    qualities: list[float] = []
    latencies: list[float] = []
    dollars: list[float] = []
    cloud_turns = sent = refusals = fallbacks = over_latency = over_dollars = 0
    for conversation in case.conversations:
        session = _session(make(), case, budget, link, device, cloud, scorer, len(conversation.turns))
        for turn in conversation.turns:
            result = await session.ask(turn_request(turn))
            qualities.append(turn_quality(turn, result))
            if result.endpoint == "cloud":
                cloud_turns += 1
                sent += len(result.attachments_sent)
            refusals += int(result.refused)
            fallbacks += int(result.fallback)
        latencies.append(session.spent.latency.total_s)
        dollars.append(session.spent.dollars)
        over_latency += int(budget.latency_s is not None and session.spent.latency.total_s > budget.latency_s)
        over_dollars += int(budget.dollars is not None and session.spent.dollars > budget.dollars + 1e-12)
        if on_conversation is not None:
            on_conversation()
    turns = len(qualities)
    return PolicySummary(
        policy=name,
        conversations=len(case.conversations),
        turns=turns,
        mean_quality=sum(qualities) / turns,
        mean_latency_s=sum(latencies) / len(latencies),
        mean_dollars=sum(dollars) / len(dollars),
        cloud_share=cloud_turns / turns,
        attachments_per_cloud_turn=sent / cloud_turns if cloud_turns else 0.0,
        latency_over_budget=over_latency,
        dollar_over_budget=over_dollars,
        refusals=refusals,
        fallbacks=fallbacks,
    )


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
             cloud: EndpointProfile, scorer: RelevanceScorer, turns: int) -> Session:
    clock = VirtualClock()
    endpoints = {
        "device": ReplayEndpoint("device", case.table, "device", device, "robot", price_from_profile=True),
        "cloud": LinkedEndpoint(ReplayEndpoint("cloud", case.table, "cloud", cloud, "cloud", price_from_profile=True), link, clock),
    }
    return Session(endpoints, "device", policy, budget, zones={"device": "device", "cloud": "cloud"},
                   expected_turns=turns, scorer=scorer)

