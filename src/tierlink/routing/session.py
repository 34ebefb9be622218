"""Session: a multi-turn conversation on a device that may call other tiers, within hard budgets.

Each turn: the policy decides; residency, reachability and modality rules are enforced over
its choice; the action's worst case is reserved against the remaining budget; the call runs;
a failure (outage, timeout, error, broken stream) falls back to the device; the answer, the
action, the reason, the usage and the budget left are returned. A turn is never lost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from tierlink.context.history import HistoryPlan, plan_messages
from tierlink.context.prefix_cache import PrefixTracker
from tierlink.core.budget import Budget
from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Attachment, Completion, Message, Request
from tierlink.core.tokens import estimate_tokens, estimated_tokens_of
from tierlink.core.usage import Usage
from tierlink.endpoints.base import Endpoint, collect
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.draft_signals import SELF_CHECK_TEMPLATE, sampled_request
from tierlink.routing.modality import AttachmentSelector
from tierlink.routing.policy import Policy
from tierlink.routing.relevance import RelevanceScorer, default_scorer
from tierlink.routing.reservation import reserve
from tierlink.routing.residency import Residency
from tierlink.routing.state import Action, EndpointView, TurnState

TextSink = Callable[[str], None]  # receives the answer's pieces as they arrive
MODALITY_OF = {"image": "image", "document": "document", "audio": "audio", "sensor": "sensor"}


@dataclass(frozen=True)
class _Miss:
    """Why a call did not happen or failed; `over_budget` when only the budget stood in the way."""

    why: str
    over_budget: bool = False
    partial: bool = False  # part of the answer had already gone to the sink: no fallback
    usage: Usage = Usage()  # what the failed call is estimated to have cost (the part that was sent)

    def __str__(self) -> str:
        return self.why


@dataclass(frozen=True)
class _Call:
    """A completed call and what was actually sent."""

    completion: Completion
    sent: tuple[int, ...]
    plan: HistoryPlan
    overhead: Usage = Usage()  # device work done to prepare the call (a handoff summary)

    @property
    def usage(self) -> Usage:
        return self.completion.usage + self.overhead


class TurnResult(BaseModel):
    """What one turn did and cost."""

    model_config = ConfigDict(frozen=True)

    turn: int
    answer: str
    endpoint: str | None
    reason: str
    action: Action
    usage: Usage
    budget_left: Budget
    refused: bool = False
    over_budget: bool = False  # refused only because no call fitted the budget left
    partial: bool = False  # refused after part of an answer had streamed to the sink
    fallback: bool = False
    used_draft: bool = False
    attachments_sent: tuple[int, ...] = ()
    history_plan: str = "full"
    latency_violation: bool = False
    completion: Completion | None = None


@dataclass
class SessionStats:
    """Counts over the session (violations must stay zero for dollars)."""

    turns: int = 0
    refusals: int = 0
    fallbacks: int = 0
    latency_violations: int = 0
    dollar_violations: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


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
    ) -> None:
        if device not in endpoints:
            raise TierlinkError(f"device endpoint '{device}' is not among {', '.join(endpoints)}")
        self.endpoints = dict(endpoints)
        self.device = device
        self.policy = policy
        self.initial_budget = budget or Budget()
        self.budget = self.initial_budget
        self.zones = dict(zones or {n: e.profile.privacy_zone for n, e in endpoints.items()})
        self.residency = residency or Residency()
        self.history_plan = history_plan or HistoryPlan()
        self.device_history = device_history or HistoryPlan(kind="full")  # it holds it all already
        self.expected_turns = expected_turns
        unknown = [name for name in fallback or () if name not in endpoints]
        if unknown:
            raise TierlinkError(f"fallback endpoint(s) {', '.join(unknown)} not among {', '.join(endpoints)}")
        # where a failed call goes next, in order (e.g. cloud -> edge -> device); default: the device
        self.fallback = tuple(fallback) if fallback else (device,)
        # call endpoints by streaming (first-chunk timeouts, broken streams caught) and collect
        self.stream_upstream = stream_upstream
        self.selector = selector or AttachmentSelector()
        self._scorer = scorer
        self.history: list[Message] = []
        self.prefixes = PrefixTracker()
        self.stats = SessionStats()
        self.spent = Usage()
        self._last_endpoint: str | None = None
        self._summary: str | None = None

    def resume(self, history: Sequence[Message], spent: Usage, turns: int, last_endpoint: str | None) -> None:
        """Continue a conversation whose earlier turns happened elsewhere: a gateway request
        carries the history, and its spend and turn count come from the gateway's store."""
        self.history = list(history)
        self.spent = spent
        self.stats.turns = turns
        self._last_endpoint = last_endpoint

    async def ask(self, request: Request, sink: TextSink | None = None) -> TurnResult:
        """Answer one user turn; never raises for an endpoint or link failure. With a `sink`,
        the answering call streams and each piece goes to the sink as it arrives; once a piece
        has gone out, a failure of that call ends the turn (refused, `partial`) instead of
        falling back, so the listener never gets two endpoints' answers in one."""
        turn = self.stats.turns + 1
        request = request.model_copy(update={"turn": turn})
        state = self._state(turn, request, draft=None)
        spent = Usage()
        action = self._enforce(await self.policy.decide(state), state)
        if action.overhead is not None:  # an LLM router's own call is part of the turn
            self._spend(action.overhead)
            spent = spent + action.overhead
        draft: _Call | None = None
        if action.draft:
            attempt = await self._call(self.device, request.model_copy(update={"logprobs": True}), action)
            if isinstance(attempt, _Call):
                draft = attempt
                evidence = await self._evidence(request, action, attempt.completion)
                spent = spent + attempt.usage + sum((e.usage for e in evidence), Usage())
                samples = tuple(e for e in evidence if e.endpoint != "self-check")
                checks = [e for e in evidence if e.endpoint == "self-check"]
                state = self._state(turn, request, draft=attempt.completion, samples=samples,
                                    self_check=checks[0] if checks else None)
                action = self._enforce(await self.policy.decide(state), state)
            else:
                action = Action(endpoint=self.device, reason=f"draft failed ({attempt}); the device answers")
        if action.use_draft and draft is not None:
            return self._finish(turn, request, action, draft, spent, used_draft=True)
        result = await self._call(action.endpoint, request, action, sink)
        if isinstance(result, _Call):
            return self._finish(turn, request, action, result, spent + result.usage)
        if action.endpoint == self.device or result.partial:
            return self._refuse(turn, action, spent + result.usage, [result])
        # the chosen endpoint failed or did not fit: fall back; never lose the turn
        if draft is not None:
            fallback = action.model_copy(update={"endpoint": self.device, "use_draft": True,
                                                 "reason": f"{action.reason}; {result}; answering with the device draft"})
            return self._finish(turn, request, fallback, draft, spent, used_draft=True, fallback=True)
        failures: list[_Miss] = [result]
        last = action
        for name in self._fallbacks_after(action.endpoint, state):
            last = Action(endpoint=name, reason=f"{action.reason}; {'; '.join(map(str, failures))}; {self._who(name)} answers")
            rescue = await self._call(name, request, last, sink)
            if isinstance(rescue, _Call):
                return self._finish(turn, request, last, rescue, spent + rescue.usage, fallback=True)
            failures.append(rescue)
            if rescue.partial:
                break
        return self._refuse(turn, last, spent + sum((m.usage for m in failures), Usage()), failures)

    @property
    def scorer(self) -> RelevanceScorer:
        """The relevance scorer, created on first use (the embedding model loads lazily)."""
        if self._scorer is None:
            self._scorer = default_scorer()
        return self._scorer

    def preview(self, request: Request) -> TurnState:
        """The state a policy would see if `request` were the next turn (nothing is spent)."""
        return self._state(self.stats.turns + 1, request, draft=None)

    def admissible(self, request: Request, action: Action) -> bool:
        """Would `action` pass residency, reachability and the worst-case budget check now?"""
        state = self.preview(request)
        if self._enforce(action, state) != action:
            return False
        outgoing, _, _ = self._outgoing(action.endpoint, request, action)
        try:
            return self.budget.fits(self._worst_case(action.endpoint, outgoing))
        except TierlinkError:
            return False

    def worst_case_dollars(self, request: Request) -> float:
        """What one turn of `request` could cost at most if every endpoint were called once with
        the full history: a hold to take from a shared budget (a key's) before asking."""
        total = 0.0
        for name in self.endpoints:
            outgoing, _, _ = self._outgoing(name, request, Action(endpoint=name, reason="estimate", history=HistoryPlan(kind="full")))
            try:
                total += self._worst_case(name, outgoing).dollars
            except TierlinkError:
                continue
        return total

    # -- internals ---------------------------------------------------------------------------

    def _who(self, name: str) -> str:
        return "the device" if name == self.device else name

    def _fallbacks_after(self, failed: str, state: TurnState) -> list[str]:
        """Endpoints to try after `failed`: those after it in the fallback chain (all of the
        chain if it is not in it), skipping any residency or availability rules out now."""
        chain = list(self.fallback)
        rest = chain[chain.index(failed) + 1:] if failed in chain else chain
        views = state.endpoints
        return [name for name in rest if name != failed and name in views and views[name].allowed and views[name].reachable]

    async def _evidence(self, request: Request, action: Action, draft: Completion) -> list[Completion]:
        """Extra device calls a cascade asked for: k sampled drafts and a self-check verdict."""
        found: list[Completion] = []
        for i in range(action.samples):
            call = await self._call(self.device, sampled_request(request, i), action)
            if isinstance(call, _Call):
                found.append(call.completion)
        if action.self_check:
            prompt = SELF_CHECK_TEMPLATE.format(question=request.last_user_text, answer=draft.text)
            check_action = Action(endpoint=self.device, reason="self-check", history=HistoryPlan(kind="none"))
            call = await self._call(self.device, Request.of(prompt, max_tokens=2, logprobs=True), check_action)
            if isinstance(call, _Call):
                found.append(call.completion.model_copy(update={"endpoint": "self-check"}))
        return found

    def _state(self, turn: int, request: Request, draft: Completion | None,
               samples: tuple[Completion, ...] = (), self_check: Completion | None = None) -> TurnState:
        views = {}
        held = self.prefixes.holds()
        for name, endpoint in self.endpoints.items():
            views[name] = EndpointView(
                name=name,
                profile=endpoint.profile,
                is_device=name == self.device,
                reachable=endpoint.available(),
                allowed=self.residency.text_allowed(request, self.zones.get(name, "cloud")),
                holds_messages=held.get(name, 0),
                link=_link_of(endpoint),
            )
        return TurnState(
            turn=turn,
            request=request,
            history=tuple(self.history),
            budget=self.budget,
            spent_dollars=self.spent.dollars,
            spent_seconds=self.spent.latency.total_s,
            endpoints=views,
            device=self.device,
            last_endpoint=self._last_endpoint,
            expected_turns=self.expected_turns,
            draft=draft,
            samples=samples,
            self_check=self_check,
            admissible=functools.partial(self.admissible, request),
        )

    def _enforce(self, action: Action, state: TurnState) -> Action:
        """Residency and reachability override any policy; unknown endpoints are the device."""
        view = state.endpoints.get(action.endpoint)
        if view is None:
            return Action(endpoint=self.device, reason=f"policy chose unknown endpoint '{action.endpoint}'; the device answers")
        if not view.allowed:
            return Action(endpoint=self.device, reason=f"private data may not leave the {'/'.join(sorted(self.residency.private_zones))} zone; the device answers (policy wanted {action.endpoint})")
        if not view.reachable:
            instead = next(iter(self._fallbacks_after(action.endpoint, state)), self.device)
            return Action(endpoint=instead, reason=f"{action.endpoint} is unreachable (link down or circuit open); {self._who(instead)} answers")
        return action

    def _outgoing(self, name: str, request: Request, action: Action) -> tuple[Request, tuple[int, ...], HistoryPlan]:
        """The request as sent to `name`: planned history, permitted attachments only."""
        endpoint = self.endpoints[name]
        plan = action.history or self.history_plan
        if name == self.device and action.history is None:
            plan = self.device_history
        messages = plan_messages(tuple(self.history), request.messages, plan, self._summary)
        zone = self.zones.get(name, "cloud")
        offered = range(len(request.attachments)) if action.attachments is None else action.attachments
        allowed = tuple(
            i for i in offered
            if 0 <= i < len(request.attachments)
            and _modality_ok(request.attachments[i], endpoint)
            and self.residency.attachment_allowed(request.attachments[i], request, zone)
        )
        sent = allowed
        if action.attachments is None and name != self.device and allowed:
            sent = self.selector.select(request.last_user_text, request.attachments, allowed,
                                        endpoint.profile, _link_of(endpoint), self.scorer).chosen
        outgoing = request.model_copy(
            update={"messages": messages, "attachments": tuple(request.attachments[i] for i in sent)}
        )
        return outgoing, sent, plan

    async def _call(self, name: str, request: Request, action: Action, sink: TextSink | None = None) -> _Call | _Miss:
        """Reserve the worst case, then call; a _Miss explains why nothing came back."""
        endpoint = self.endpoints[name]
        plan = action.history or self.history_plan
        overhead = await self._summarise(plan) if name != self.device and plan.kind == "summary" else Usage()
        outgoing, sent, plan = self._outgoing(name, request, action)
        try:
            worst = self._worst_case(name, outgoing)
        except TierlinkError as exc:
            return _Miss(f"{name} cannot answer ({exc})")
        if not self.budget.fits(worst):
            return _Miss(f"{name} does not fit the budget left (needs up to ${worst.dollars:.5f}, "
                         f"~{worst.latency.total_s:.1f}s; left {_left(self.budget)})", over_budget=True)
        pieces: list[str] = []  # what went to the sink
        try:
            if sink is not None or self.stream_upstream:
                completion = await collect(endpoint.stream(outgoing), None if sink is None else _tee(sink, pieces))
            else:
                completion = await endpoint.complete(outgoing)
        except TierlinkError as exc:
            if not pieces:
                return _Miss(f"{name} failed: {exc}")
            # the upstream billed what it sent but reported no usage: charge an estimate (simulated)
            profile = endpoint.profile
            tokens_in, tokens_out = estimated_tokens_of(outgoing.messages), estimate_tokens("".join(pieces))
            usage = Usage(input_tokens=tokens_in, output_tokens=tokens_out, dollars=profile.dollars(tokens_in, tokens_out),
                          origins=frozenset({"simulated"}))
            self._spend(usage)
            return _Miss(f"{name} failed after part of its answer was sent: {exc}", partial=True, usage=usage)
        completion = self._with_prefix_cache(name, outgoing, completion)
        self._spend(completion.usage)
        if completion.usage.dollars > worst.dollars + 1e-12:
            self.stats.dollar_violations += 1
        self.prefixes.record(name, outgoing.messages)
        return _Call(completion, sent, plan, overhead)

    def _worst_case(self, name: str, outgoing: Request) -> Usage:
        """The reservation for sending `outgoing` to `name` (exact where the endpoint can quote)."""
        endpoint = self.endpoints[name]
        return reserve(outgoing, endpoint.profile, _link_of(endpoint), endpoint.quote(outgoing))

    def _with_prefix_cache(self, name: str, outgoing: Request, completion: Completion) -> Completion:
        """Charge a prefix this endpoint already holds at its cached price, for endpoints whose
        numbers are not live (a live server reports its own cached tokens)."""
        profile = self.endpoints[name].profile
        usage = completion.usage
        if completion.origin == "live" or usage.cached_tokens or not profile.supports_prompt_cache:
            return completion
        cached = min(self.prefixes.cached_tokens(name, outgoing.messages), usage.input_tokens)
        if not cached:
            return completion
        discounted = usage.model_copy(update={
            "cached_tokens": cached,
            "dollars": min(usage.dollars, profile.dollars(usage.input_tokens, usage.output_tokens, cached)),
            "origins": usage.origins | {"simulated"},
        })
        return completion.model_copy(update={"usage": discounted})

    async def _summarise(self, plan: HistoryPlan) -> Usage:
        """Have the device write (or refresh) a short summary of the turns older than the last k;
        returns what writing it cost (already charged to the budget)."""
        turns = [m for m in self.history if m.role != "system"]
        older = turns[: max(0, len(turns) - 2 * plan.k)]
        if not older:
            return Usage()
        transcript = "\n".join(f"{m.role}: {m.content[:500]}" for m in older[-12:])
        prompt = f"Summarise this conversation in two sentences.\n\n{transcript}"
        action = Action(endpoint=self.device, reason="summary for the handoff", history=HistoryPlan(kind="none"))
        call = await self._call(self.device, Request.of(prompt, max_tokens=96), action)
        if not isinstance(call, _Call):
            return Usage()
        self._summary = call.completion.text
        return call.usage

    def _spend(self, usage: Usage) -> None:
        before = self.budget
        self.budget = self.budget.spend(usage)
        self.spent = self.spent + usage
        if before.latency_s is not None and usage.latency.total_s > before.latency_s + 1e-9:
            self.stats.latency_violations += 1

    def _finish(self, turn: int, request: Request, action: Action, call: _Call, usage: Usage,
                used_draft: bool = False, fallback: bool = False) -> TurnResult:
        completion = call.completion
        self.history.extend(request.messages)
        self.history.append(Message(role="assistant", content=completion.text))
        self._last_endpoint = completion.endpoint
        self.stats.turns += 1
        self.stats.fallbacks += int(fallback)
        self.stats.by_endpoint[completion.endpoint] = self.stats.by_endpoint.get(completion.endpoint, 0) + 1
        return TurnResult(
            turn=turn,
            answer=completion.text,
            endpoint=completion.endpoint,
            reason=action.reason,
            action=action,
            usage=usage,
            budget_left=self.budget,
            fallback=fallback,
            used_draft=used_draft,
            attachments_sent=call.sent,
            history_plan=call.plan.label(),
            completion=completion,
        )

    def _refuse(self, turn: int, action: Action, spent: Usage, misses: list[_Miss]) -> TurnResult:
        self.stats.turns += 1
        self.stats.refusals += 1
        return TurnResult(
            turn=turn,
            answer="",
            endpoint=None,
            reason=f"refused: nothing fits or answers ({'; '.join(map(str, misses))})",
            action=action,
            usage=spent,
            budget_left=self.budget,
            refused=True,
            over_budget=all(m.over_budget for m in misses),
            partial=any(m.partial for m in misses),
        )


def _link_of(endpoint: Endpoint) -> Link | None:
    """The link an endpoint is reached over; None for in-process ones (the device)."""
    return endpoint.link if isinstance(endpoint, LinkedEndpoint) else None


def _tee(sink: TextSink, kept: list[str]) -> TextSink:
    """A sink that also keeps what it passed on."""
    def forward(text: str) -> None:
        sink(text)
        kept.append(text)
    return forward


def _modality_ok(attachment: Attachment, endpoint: Endpoint) -> bool:
    return MODALITY_OF[attachment.kind] in endpoint.profile.modalities


def _left(budget: Budget) -> str:
    parts = []
    if budget.dollars is not None:
        parts.append(f"${budget.dollars:.5f}")
    if budget.latency_s is not None:
        parts.append(f"{budget.latency_s:.1f}s")
    return ", ".join(parts) or "unlimited"
