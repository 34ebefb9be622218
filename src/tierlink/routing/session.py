"""Session: a multi-turn conversation on a device that may call other tiers, within hard budgets.

Each turn reads top to bottom: the policy decides (residency, reachability and modality rules
override it); what is sent is prepared (the history plan chosen once, the attachments allowed);
the call runs under a reservation of its worst case, with one fallback chain when it fails; the
call is charged, once, to the budget and to the charge sink; the result says what happened and
what the turn's charges add up to. A turn is never lost.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

from tierlink.context.history import HistoryPlan
from tierlink.context.prefix_cache import PrefixTracker
from tierlink.core.budget import Budget
from tierlink.core.errors import TierlinkError
from tierlink.core.ledger import Charge, ChargeKind, ChargeSink
from tierlink.core.messages import Completion, Message, Request
from tierlink.core.shared_dollars import SharedDollars
from tierlink.core.usage import Usage
from tierlink.endpoints.base import Endpoint
from tierlink.routing.calling import TextSink, attempt, worst_case
from tierlink.routing.draft_signals import sampled_request, self_check_request
from tierlink.routing.help_tag import asks_for_help, without_help_tag
from tierlink.routing.modality import AttachmentSelector
from tierlink.routing.outgoing import Preparer, link_of
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import RelevanceScorer, default_scorer
from tierlink.routing.residency import Residency
from tierlink.routing.state import Action, EndpointView, TurnState
from tierlink.routing.turn import Call, Miss, Resumed, SessionStats, TurnResult
from tierlink.trust.pseudonyms import Crossing, Pseudonymiser
from tierlink.trust.zones import ZoneRules, session_rules

__all__ = ["Session", "TextSink", "TurnResult", "SessionStats", "Resumed"]


class Session:
    """One user's conversation with a device and whatever it can reach."""

    def __init__(
        self,
        endpoints: Mapping[str, Endpoint],
        device: str,
        policy: Policy,
        budget: Budget | None = None,
        zones: Mapping[str, str] | None = None,
        residency: Residency | None = None,
        history_plan: HistoryPlan | None = None,
        expected_turns: int = 5,
        selector: AttachmentSelector | None = None,
        scorer: RelevanceScorer | None = None,
        device_history: HistoryPlan | None = None,
        fallback: Sequence[str] | None = None,
        stream_upstream: bool = False,
        charges: ChargeSink | None = None,
        resumed: Resumed | None = None,
        shared: SharedDollars | None = None,
        pseudonymiser: Pseudonymiser | None = None,
        rules: ZoneRules | None = None,
    ) -> None:
        if device not in endpoints:
            raise TierlinkError(f"device endpoint '{device}' is not among {', '.join(endpoints)}")
        unknown = [name for name in fallback or () if name not in endpoints]
        if unknown:
            raise TierlinkError(f"fallback endpoint(s) {', '.join(unknown)} not among {', '.join(endpoints)}")
        self.endpoints = dict(endpoints)
        self.device = device
        self.policy = policy
        self.budget = budget or Budget()
        self.shared = shared  # dollars shared with other sessions (a key's): each call holds its worst case
        self.zones = dict(zones or {n: e.profile.privacy_zone for n, e in endpoints.items()})
        rules, pseudonymiser = session_rules(rules, pseudonymiser, self.zones.get(device, "device"))
        self.residency = residency or Residency(private_zones=frozenset({"device"}) | (rules.private_zones if rules else frozenset()))
        self.preparer = Preparer(self.residency, selector or AttachmentSelector(), self.zones, device,
                                 history_plan or HistoryPlan(), device_history or HistoryPlan(kind="full"),
                                 lambda: self.scorer, pseudonymiser, rules)
        self.audit: list[Crossing] = []  # what personal data left the device's zone, per call (types and counts)
        self.expected_turns = expected_turns
        # where a failed call goes next, in order (e.g. cloud -> edge -> device); default: the device
        self.fallback = tuple(fallback) if fallback else (device,)
        # call endpoints by streaming (first-chunk timeouts, broken streams caught) and collect
        self.stream_upstream = stream_upstream
        self.charges = charges
        self._scorer = scorer
        resumed = resumed or Resumed()
        self.history: list[Message] = list(resumed.history)
        self.spent = resumed.spent
        self.stats = SessionStats(turns=resumed.turns)
        self._last_endpoint = resumed.last_endpoint
        self.prefixes = PrefixTracker()
        self._summary: str | None = None
        self._turn_spent = Usage()  # the charges of the turn under way

    async def ask(self, request: Request, sink: TextSink | None = None) -> TurnResult:
        """Answer one user turn; never raises for an endpoint or link failure. With a `sink`,
        the answering call streams and each piece goes to the sink as it arrives; once a piece
        has gone out, a failure of that call ends the turn (refused, `partial`) instead of
        falling back, so the listener never gets two endpoints' answers in one."""
        turn = self.stats.turns + 1
        request = request.model_copy(update={"turn": turn})
        self._turn_spent, violations = Usage(), self.stats.latency_violations
        state = self._state(turn, request)
        action = await self._decide(state)
        if action.overhead is not None:  # an LLM router's own call is part of the turn
            self._charge(turn, "router", action.overhead.endpoint, action.overhead.usage)
        draft: Call | None = None
        if action.draft:
            draft, action, state = await self._draft(turn, request, action)
        if action.use_draft and draft is not None:
            return self._finish(turn, request, action, draft, violations, used_draft=True)
        result = await self._call(action.endpoint, request, action, "answer", sink)
        if isinstance(result, Call):
            return self._finish(turn, request, action, result, violations)
        if result.partial or (action.endpoint == self.device and result.retry_after_s is None):
            return self._refuse(turn, action, [result], violations)  # a busy device, though, hands the turn on
        if draft is not None:  # the chosen endpoint failed or did not fit: the draft is the answer
            fallback = action.model_copy(update={"endpoint": self.device, "use_draft": True,
                                                 "reason": f"{action.reason}; {result}; answering with the device draft"})
            return self._finish(turn, request, fallback, draft, violations, used_draft=True, fallback=True,
                                down_tier=result.over_budget)
        return await self._fall_back(turn, request, action, state, result, violations, sink)

    @property
    def scorer(self) -> RelevanceScorer:
        """The relevance scorer, created on first use (the embedding model loads lazily)."""
        if self._scorer is None:
            self._scorer = default_scorer()
        return self._scorer

    def preview(self, request: Request) -> TurnState:
        """The state a policy would see if `request` were the next turn (nothing is spent)."""
        return self._state(self.stats.turns + 1, request)

    def admissible(self, request: Request, action: Action) -> bool:
        """Would `action` pass residency, reachability and the worst-case budget check now?"""
        state = self.preview(request)
        if self._enforce(action, state) != action:
            return False
        try:
            return self.budget.fits(self._worst_case(action.endpoint, request, action))
        except TierlinkError:
            return False

    # -- deciding ----------------------------------------------------------------------------

    def _state(self, turn: int, request: Request, draft: Completion | None = None,
               samples: tuple[Completion, ...] = (), self_check: Completion | None = None) -> TurnState:
        held = self.prefixes.holds()
        views = {name: EndpointView(
            name=name, profile=endpoint.profile, is_device=name == self.device, reachable=endpoint.available(),
            allowed=self.preparer.held_back(name, request, tuple(self.history)) is None,
            holds_messages=held.get(name, 0), link=link_of(endpoint),
        ) for name, endpoint in self.endpoints.items()}
        return TurnState(
            turn=turn, request=request, history=tuple(self.history), budget=self.budget,
            spent_dollars=self.spent.dollars, spent_seconds=self.spent.latency.total_s, endpoints=views,
            device=self.device, last_endpoint=self._last_endpoint, expected_turns=self.expected_turns,
            draft=draft, samples=samples, self_check=self_check, admissible=functools.partial(self.admissible, request),
            answered_by=dict(self.stats.by_endpoint),
        )

    async def _decide(self, state: TurnState) -> Action:
        """The policy's choice, overridden where the rules say; a choice held back on the device
        (residency, a zone's rule) is counted."""
        wanted = await self.policy.decide(state)
        view = state.endpoints.get(wanted.endpoint)
        self.stats.held_back += view is not None and not view.allowed
        return self._enforce(wanted, state)

    def _enforce(self, action: Action, state: TurnState) -> Action:
        """Residency and reachability override any policy; unknown endpoints are the device."""
        view = state.endpoints.get(action.endpoint)
        if view is None:
            return Action(endpoint=self.device, reason=f"policy chose unknown endpoint '{action.endpoint}'; the device answers")
        if not view.allowed:
            why = self.preparer.held_back(action.endpoint, state.request, state.history)
            return Action(endpoint=self.device, reason=f"{why}; the device answers (policy wanted {action.endpoint})")
        if not view.reachable:
            instead = next(iter(self._fallbacks_after(action.endpoint, state)), self.device)
            return Action(endpoint=instead, reason=f"{action.endpoint} is unreachable (link down, circuit open or queue full); {self._who(instead)} answers")
        return action

    async def _draft(self, turn: int, request: Request, action: Action) -> tuple[Call | None, Action, TurnState]:
        """A cascade's first step: the device drafts (with any evidence asked for), then the
        policy decides again on what it sees."""
        drafted = await self._call(self.device, request.model_copy(update={"logprobs": True}), action, "draft")
        if not isinstance(drafted, Call):
            state = self._state(turn, request)
            return None, Action(endpoint=self.device, reason=f"draft failed ({drafted}); the device answers"), state
        evidence = await self._evidence(request, action, drafted.completion)
        checks = [e for e in evidence if e.endpoint == "self-check"]
        state = self._state(turn, request, draft=drafted.completion,
                            samples=tuple(e for e in evidence if e.endpoint != "self-check"),
                            self_check=checks[0] if checks else None)
        return drafted, await self._decide(state), state

    async def _evidence(self, request: Request, action: Action, draft: Completion) -> list[Completion]:
        """Extra device calls a cascade asked for: k sampled drafts and a self-check verdict."""
        found: list[Completion] = []
        for i in range(action.samples):
            call = await self._call(self.device, sampled_request(request, i), action, "sample")
            if isinstance(call, Call):
                found.append(call.completion)
        if action.self_check:
            check_action = Action(endpoint=self.device, reason="self-check", history=HistoryPlan(kind="none"))
            call = await self._call(self.device, self_check_request(request, draft.text), check_action, "self-check")
            if isinstance(call, Call):
                found.append(call.completion.model_copy(update={"endpoint": "self-check"}))
        return found

    # -- calling -----------------------------------------------------------------------------

    def _who(self, name: str) -> str:
        return "the device" if name == self.device else name

    def _fallbacks_after(self, failed: str, state: TurnState, busy: bool = False) -> list[str]:
        """Endpoints to try after `failed`: those after it in the fallback chain (all of the
        chain if it is not in it), skipping any residency or availability rules out now. A busy
        endpoint (its queue full) or the device (the last resort) hands on to the whole rest of
        the chain, in its order: nothing is wrong with the others before it."""
        chain = list(self.fallback)
        if busy or failed == self.device or failed not in chain:
            rest = [name for name in chain if name != failed]
        else:
            rest = chain[chain.index(failed) + 1:]
        views = state.endpoints
        return [name for name in rest if name in views and views[name].allowed and views[name].reachable]

    async def _fall_back(self, turn: int, request: Request, action: Action, state: TurnState, miss: Miss,
                         violations: int, sink: TextSink | None) -> TurnResult:
        """The chosen endpoint failed or did not fit: down the fallback chain; never lose the turn."""
        failures, last = [miss], action
        for name in self._fallbacks_after(action.endpoint, state, busy=miss.retry_after_s is not None):
            last = Action(endpoint=name, reason=f"{action.reason}; {'; '.join(map(str, failures))}; {self._who(name)} answers")
            rescue = await self._call(name, request, last, "answer", sink)
            if isinstance(rescue, Call):
                return self._finish(turn, request, last, rescue, violations, fallback=True, down_tier=miss.over_budget)
            failures.append(rescue)
            if rescue.partial:
                break
        return self._refuse(turn, last, failures, violations)

    def _worst_case(self, name: str, request: Request, action: Action) -> Usage:
        endpoint = self.endpoints[name]
        outgoing = self.preparer.prepare(name, endpoint, request, action, tuple(self.history), self._summary)
        return worst_case(endpoint, outgoing.request)

    async def _call(self, name: str, request: Request, action: Action, kind: ChargeKind,
                    sink: TextSink | None = None) -> Call | Miss:
        """Prepare what is sent, call under a reservation, and charge what was billed."""
        endpoint = self.endpoints[name]
        plan = self.preparer.plan_for(name, action)
        if name != self.device and plan.kind == "summary":
            await self._summarise(request.turn, plan)
        outgoing = self.preparer.prepare(name, endpoint, request, action, tuple(self.history), self._summary)
        if outgoing.redacted:  # pieces would carry tokens: the answer is restored whole, then shown
            self.audit.append(Crossing(turn=request.turn, endpoint=name, zone=self.zones.get(name, ""), entities=outgoing.redacted))
            sink = None
        tried = await attempt(name, endpoint, outgoing, self.budget, self.prefixes, sink, self.stream_upstream, self.shared)
        if tried.charge is not None:
            self._charge(request.turn, kind if isinstance(tried.outcome, Call) else "partial", name, tried.charge)
            if tried.reserved is not None and tried.charge.dollars > tried.reserved.dollars + 1e-12:
                self.stats.dollar_violations += 1
        if isinstance(tried.outcome, Call):
            self.prefixes.record(name, outgoing.request.messages)
        return tried.outcome

    async def _summarise(self, turn: int, plan: HistoryPlan) -> None:
        """Have the device write (or refresh) a short summary of the turns older than the last k
        (a charge of its own, kind 'summary')."""
        turns = [m for m in self.history if m.role != "system"]
        older = turns[: max(0, len(turns) - 2 * plan.k)]
        if not older:
            return
        transcript = "\n".join(f"{m.role}: {m.content[:500]}" for m in older[-12:])
        prompt = f"Summarise this conversation in two sentences.\n\n{transcript}"
        action = Action(endpoint=self.device, reason="summary for the handoff", history=HistoryPlan(kind="none"))
        call = await self._call(self.device, Request.of(prompt, max_tokens=96, turn=turn), action, "summary")
        if isinstance(call, Call):
            self._summary = call.completion.text

    # -- charging and results ----------------------------------------------------------------

    def _charge(self, turn: int, kind: ChargeKind, name: str, usage: Usage) -> None:
        """The one place a call's cost is spent: the budget, the session's totals, the sink."""
        before = self.budget
        self.budget = self.budget.spend(usage)
        self.spent = self.spent + usage
        self._turn_spent = self._turn_spent + usage
        if before.latency_s is not None and usage.latency.total_s > before.latency_s + 1e-9:
            self.stats.latency_violations += 1
        if self.charges is not None:
            endpoint = self.endpoints.get(name)
            self.charges.charge(Charge(round=turn, kind=kind, endpoint=name, caller=self.endpoints[self.device].node,
                                       callee=endpoint.node if endpoint is not None else name, usage=usage))

    def _finish(self, turn: int, request: Request, action: Action, call: Call, violations: int,
                used_draft: bool = False, fallback: bool = False, down_tier: bool = False) -> TurnResult:
        if asks_for_help(call.completion.text):  # whatever the path (draft, fallback), the help went unanswered
            shown = without_help_tag(call.completion.text)
            if not shown.strip():
                return self._refuse(turn, action, [Miss(f"{action.reason}; the device's draft only asked for help")], violations)
            call = dataclasses.replace(call, completion=call.completion.model_copy(update={"text": shown}))
        left_out = len(request.attachments) - len(call.sent)
        if left_out > 0:  # said in the reason: what the answering model did not see
            action = action.model_copy(update={"reason": f"{action.reason}; {left_out} of {len(request.attachments)} "
                                                         f"attachment(s) sent to {call.completion.endpoint} as captions only"})
        if self.preparer.pseudonymiser is not None:  # tokens of this conversation back to the user's values
            restored = self.preparer.pseudonymiser.restore(call.completion.text)
            call = dataclasses.replace(call, completion=call.completion.model_copy(update={"text": restored}))
        if call.completion.usage_capped:  # said in the reason: the bill was cut to what the call could use
            action = action.model_copy(update={"reason": f"{action.reason}; {call.completion.endpoint} over-reported "
                                                         "its usage: billed at the call's bound"})
        completion = call.completion
        self.history.extend(request.messages)
        self.history.append(Message(role="assistant", content=completion.text))
        self._last_endpoint = completion.endpoint
        self.stats.turns += 1
        self.stats.fallbacks += int(fallback)
        self.stats.by_endpoint[completion.endpoint] = self.stats.by_endpoint.get(completion.endpoint, 0) + 1
        return TurnResult(
            turn=turn, answer=completion.text, endpoint=completion.endpoint, reason=action.reason, action=action,
            usage=self._turn_spent, budget_left=self.budget, fallback=fallback, down_tier=down_tier, used_draft=used_draft,
            attachments_sent=call.sent, history_plan=call.plan, completion=completion,
            latency_violation=self.stats.latency_violations > violations,
        )

    def _refuse(self, turn: int, action: Action, misses: list[Miss], violations: int) -> TurnResult:
        self.stats.turns += 1
        self.stats.refusals += 1
        return TurnResult(
            turn=turn, answer="", endpoint=None, reason=f"refused: nothing fits or answers ({'; '.join(map(str, misses))})",
            action=action, usage=self._turn_spent, budget_left=self.budget, refused=True,
            over_budget=all(m.over_budget for m in misses), partial=any(m.partial for m in misses),
            retry_after_s=_busy_for(misses),
            latency_violation=self.stats.latency_violations > violations,
        )


def _busy_for(misses: list[Miss]) -> float | None:
    """When every miss was a full queue: the soonest any endpoint expects a free slot."""
    waits = [m.retry_after_s for m in misses]
    return None if not waits or None in waits else min(w for w in waits if w is not None)

