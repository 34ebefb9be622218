"""The gateway's core, independent of HTTP: authenticate, rate-limit, route one chat turn through
a tierlink Session under the session's and the key's budgets, and record its spend.

A request carries the whole conversation (the OpenAI API is stateless); the session id (header
or `user`) carries the *budget* state across requests, kept in SQLite so a restart loses
nothing. Requests of one session run one at a time, so two cannot spend the same dollar. A turn,
once started, runs to the end and is recorded even if the client goes away.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from dataclasses import dataclass

from tierlink.config.build import Deployment, build_deployment
from tierlink.config.load import device_cascade
from tierlink.config.schema import EndpointConfig, TierlinkConfig
from tierlink.core.budget import Budget
from tierlink.core.deadline import deadline_in
from tierlink.core.ledger import Ledger
from tierlink.core.messages import Message, Request
from tierlink.core.shared_dollars import SharedDollars
from tierlink.core.tokens import estimated_tokens_of
from tierlink.core.usage import Latency, Usage
from tierlink.endpoints.admission import AdmissionEndpoint
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.breaker import CircuitBreaker
from tierlink.routing.policy import Policy, make_policy
from tierlink.routing.session import Resumed, Session, TextSink, TurnResult
from tierlink.serve.guards import Guarded, endpoint_policy, fallback_order, guarded
from tierlink.serve.keys import KeyRecord
from tierlink.serve.metrics import GatewayMetrics
from tierlink.serve.ratelimit import RateLimiter
from tierlink.serve.refusals import (
    BadRequest,
    Busy,
    OverBudget,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnknownModel,
)
from tierlink.serve.store import SessionRecord, SpendRecord, Store
from tierlink.serve.wire import MAX_SESSION_ID_CHARS, ChatRequest

SESSION_HEADER = "X-Tierlink-Session"


def new_request_id() -> str:
    """An id made before the turn runs, so live stream chunks and the spend row share it."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API key and what it has spent, or nobody (keys not required)."""

    key: KeyRecord | None = None
    key_spent: float = 0.0

    @property
    def key_id(self) -> str | None:
        """The caller's key id, or None when no key was sent (keys not required)."""
        return self.key.key_id if self.key else None


@dataclass(frozen=True)
class ChatOutcome:
    """One answered turn with the budgets left after it: what the HTTP layer renders."""

    request_id: str
    created: int
    model: str
    session_id: str | None
    result: TurnResult
    session_dollars_left: float | None
    key_dollars_left: float | None


class Gateway:
    """Endpoints behind breakers, policies by model name, the store, the metrics."""

    def __init__(self, config: TierlinkConfig, store: Store, metrics: GatewayMetrics | None = None,
                 require_keys: bool = False) -> None:
        self.store = store
        self.metrics = metrics or GatewayMetrics()
        self.require_keys = require_keys
        self.deployment: Deployment = build_deployment(config, record_transfers=False)  # each request records its own charges
        self.admission: dict[str, AdmissionEndpoint] = {}
        self.breakers = self._guard_endpoints()
        self.metrics.watch_breakers(self.breakers)
        self.policies = self._policies()
        self.members_changed()
        self.limiter = RateLimiter()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: set[asyncio.Task[ChatOutcome]] = set()  # running turns, held so none is collected mid-flight
        self._shared: dict[str, SharedDollars] = {}  # each key's dollars while it has requests in flight
        self.ready = False

    @property
    def config(self) -> TierlinkConfig:
        """The configuration as it is now: the deployment's, which members join and leave."""
        return self.deployment.config

    # -- set-up -----------------------------------------------------------------------------

    def _guard_endpoints(self) -> dict[str, CircuitBreaker]:
        """Every endpoint behind its guards (serve.guards); the breakers, by endpoint."""
        breakers = {}
        for name, endpoint in list(self.deployment.endpoints.items()):
            guard = self.guard(name, endpoint, self.config.endpoints[name])
            self.deployment.endpoints[name] = guard.endpoint
            if guard.breaker is not None:
                breakers[name] = guard.breaker
        return breakers

    def guard(self, name: str, endpoint: Endpoint, spec: EndpointConfig) -> Guarded:
        """`endpoint` behind its queue and breaker; its queue is watched from now on."""
        guard = guarded(endpoint, spec, self.config.serve.breaker, is_device=name == self.deployment.device)
        if guard.admission is not None:
            self.admission[name] = guard.admission
            self.metrics.watch_queues({name: guard.admission})
        return guard

    def _policies(self) -> dict[str, Policy]:
        config = self.config
        policies = {"tierlink-auto": self.deployment.policy()}
        cascade = config.policy.params if config.policy.name == "cascade" else device_cascade(config)
        policies["tierlink-cascade"] = make_policy("cascade", **cascade)
        if config.serve.learned_model is not None:
            policies["tierlink-learned"] = make_policy("learned", model=str(config.serve.learned_model))
        for name in config.endpoints:  # an endpoint by name: that endpoint, with the fallback chain
            policies[name] = endpoint_policy(name, self.deployment.device)
        return policies

    def members_changed(self) -> None:
        """What follows from the member set: the fallback chain and the largest context window."""
        self.fallback = fallback_order(self.config)
        self.largest_window = max(e.profile.context_window for e in self.deployment.endpoints.values())

    def models(self) -> list[str]:
        """Model names clients may ask for: the routing policies, then each endpoint by name."""
        return list(self.policies)

    async def warm_up(self) -> None:
        """Load in-process models (blocking work in a thread); then the gateway is ready."""
        for endpoint in self.deployment.endpoints.values():
            await endpoint.warm()
        self.ready = True

    def track(self, turn: asyncio.Task[ChatOutcome]) -> asyncio.Task[ChatOutcome]:
        """Hold a running turn until it ends (a client may leave before it does)."""
        self._turns.add(turn)
        turn.add_done_callback(self._turns.discard)
        return turn

    def running_turns(self) -> set[asyncio.Task[ChatOutcome]]:
        """The turns running now (a departing member is closed once they end)."""
        return set(self._turns)

    async def drain(self, timeout_s: float) -> None:
        """Let running turns finish (and record their spend) before shutting down."""
        if self._turns and timeout_s > 0:
            await asyncio.wait(set(self._turns), timeout=timeout_s)

    async def aclose(self) -> None:
        """Close the deployment's endpoints (HTTP clients, model memory) at shutdown."""
        await self.deployment.aclose()

    # -- requests ---------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller for a Bearer token; Unauthorized if keys are required and it is missing or bad."""
        token = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        required = self.require_keys or self.store.has_active_keys()  # a key created after start counts at once
        if token is None:
            if required:
                raise Unauthorized("missing API key: send 'Authorization: Bearer <key>' "
                                   "(create one with `tierlink keys create`)")
            return Caller()
        found = self.store.key_for(token)
        if found is None:
            if not required:
                return Caller()
            raise Unauthorized("invalid or revoked API key (see `tierlink keys list`)")
        return Caller(*found)

    async def chat(self, body: ChatRequest, caller: Caller, session_header: str | None = None,
                   sink: TextSink | None = None, request_id: str | None = None, private: bool = False) -> ChatOutcome:
        """Answer one chat request; with a `sink`, the answer's pieces go to it as they arrive.
        Raises a Refusal (serve.refusals) when the request is turned away."""
        request_id = request_id or new_request_id()
        policy = self.policies.get(body.model)
        if policy is None:
            raise UnknownModel(f"unknown model '{body.model}': use one of {', '.join(self.models())}", "model")
        messages, attachments = body.tierlink_turn()
        self._check_context(messages, body.output_cap)
        if session_header is not None and len(session_header) > MAX_SESSION_ID_CHARS:
            raise BadRequest(f"the {SESSION_HEADER} header is {len(session_header)} characters; a session id may be at "
                             f"most {MAX_SESSION_ID_CHARS}", SESSION_HEADER)
        self._admit(caller)
        public = session_header or body.user
        session_id = f"{caller.key_id or 'open'}:{public}" if public else None
        request = Request(messages=(messages[-1],), attachments=attachments, max_tokens=body.output_cap,
                          temperature=body.temperature or 0.0, stop=body.stop_words, seed=body.seed,
                          private=private or bool(caller.key and caller.key.private), zones=caller.key.zones if caller.key else ())
        async with self._lock(session_id):
            previous = self._previous(session_id, caller, public)
            resumed = Resumed(messages[:-1], Usage(dollars=previous.spent_dollars, latency=Latency(decode_s=previous.spent_seconds)),
                              previous.turns, previous.last_endpoint)
            shared = self._shared_for(caller)
            key_left = None if shared is None else shared.left
            limits = [x for x in (previous.dollars_left, key_left) if x is not None]
            scope = "key" if key_left is not None and (previous.dollars_left is None or key_left <= previous.dollars_left) else "session"
            try:  # from here on the key's shared dollars are let go whatever happens
                charges = Ledger()  # this request's charges, written with its spend row
                budget = Budget(latency_s=self._request_latency(), dollars=max(0.0, min(limits)) if limits else None)
                session = self.deployment.session(policy, budget, fallback=self.fallback, resumed=resumed, charges=charges,
                                                  stream_upstream=self.config.serve.stream_upstream, shared=shared)
                # shielded: a client that goes away does not cancel a turn that may already cost money;
                # every wait inside (a queue for a slot, an upstream call) ends at the request's cap
                with deadline_in(self._request_latency()):
                    turn = asyncio.ensure_future(self._turn(session, request, request_id, body.model, caller,
                                                            previous, charges, sink))
            except BaseException:
                self._let_go(caller, shared)
                raise
            # the key's dollars are let go when the turn ends, not when a caller stops waiting for it
            turn.add_done_callback(lambda _: self._let_go(caller, shared))
            self.track(turn)  # type: ignore[arg-type]  # drained at shutdown even if its caller left
            result, left = await asyncio.shield(turn)
        outcome = ChatOutcome(request_id=request_id, created=int(time.time()), model=body.model, session_id=public,
                              result=result, session_dollars_left=left,
                              key_dollars_left=None if shared is None else max(0.0, shared.left))
        self._raise_if_refused(result, scope)
        return outcome

    def _check_context(self, messages: list[Message], output_cap: int) -> None:
        """A request no endpoint's context window can hold is the client's error (400), not a budget one."""
        window = self.largest_window
        prompt = estimated_tokens_of(messages)
        if prompt + output_cap > window:
            raise BadRequest(f"the largest context window here is {window} tokens, but the request needs about "
                             f"{prompt + output_cap} ({prompt} in the messages, {output_cap} for the completion); "
                             "shorten the messages or lower max_tokens", "messages", "context_length_exceeded")

    def _admit(self, caller: Caller) -> None:
        """The key's rate limit and dollars, checked before anything runs."""
        key = caller.key
        if key is None:
            return
        wait = self.limiter.take(key.key_id, key.requests_per_minute)
        if wait > 0:
            self.metrics.rate_limited.inc()
            raise RateLimited(f"key '{key.name}' is limited to {key.requests_per_minute} requests per minute; "
                              f"retry in {wait:.1f}s", wait)
        if key.dollars_limit is not None and key.dollars_limit - caller.key_spent <= 0:
            self.metrics.refusals.labels("key").inc()
            raise OverBudget(f"key '{key.name}' has spent ${caller.key_spent:.6f} of its ${key.dollars_limit:.6f} budget"
                             " (raise it with a new key, or wait for an administrator)")

    def _previous(self, session_id: str | None, caller: Caller, public: str | None) -> SessionRecord:
        """The session's state so far (a fresh one for a new or anonymous session); refuses a spent one."""
        record = self.store.session(session_id) if session_id else None
        left = record.dollars_left if record else self._session_dollars()
        if left is not None and left <= 0:
            self.metrics.refusals.labels("session").inc()
            spent = record.spent_dollars if record else 0.0
            raise OverBudget(f"session '{public}' has used its budget (spent ${spent:.6f}; start a new session id)")
        return record or SessionRecord(session_id=session_id or "", key_id=caller.key_id, dollars_left=left)

    def _shared_for(self, caller: Caller) -> SharedDollars | None:
        """The key's dollars, shared by its requests in flight: each of their calls holds its own
        worst case while it runs, so together they never spend more than the key has left. Read
        from the store when no request of the key is in flight (None without a key limit)."""
        key = caller.key
        if key is None or key.dollars_limit is None:
            return None
        shared = self._shared.get(key.key_id)
        if shared is None:
            shared = self._shared[key.key_id] = SharedDollars(key.dollars_limit - self.store.key_spent(key.key_id))
        shared.users += 1
        return shared

    def _let_go(self, caller: Caller, shared: SharedDollars | None) -> None:
        if shared is None or caller.key is None:
            return
        shared.users -= 1
        if shared.users == 0:
            self._shared.pop(caller.key.key_id, None)

    def _raise_if_refused(self, result: TurnResult, scope: str) -> None:
        if not result.refused:
            return
        if result.over_budget:
            self.metrics.refusals.labels(scope).inc()
            raise OverBudget(f"no endpoint fits the {scope}'s budget left: {result.reason}")
        if result.partial:
            raise Unavailable(f"the answer broke off: {result.reason}")
        busy = [a.retry_after_s() for a in self.admission.values() if not a.available()]
        if result.retry_after_s is not None or busy:
            wait = min([w for w in (result.retry_after_s, *busy) if w is not None])
            raise Busy(f"every endpoint that could answer is at its limit; retry in about {wait:.1f}s ({result.reason})", wait)
        raise Unavailable(f"no endpoint could answer: {result.reason}")

    async def _turn(self, session: Session, request: Request, request_id: str, model: str, caller: Caller,
                    previous: SessionRecord, charges: Ledger, sink: TextSink | None) -> tuple[TurnResult, float | None]:
        """Ask, then record the spend, its charges and the session's new state together."""
        result = await session.ask(request, sink)
        usage = result.usage
        left = None if previous.dollars_left is None else max(0.0, previous.dollars_left - usage.dollars)
        updated = None
        if previous.session_id:
            updated = previous.model_copy(update={
                "dollars_left": left, "spent_dollars": previous.spent_dollars + usage.dollars,
                "spent_seconds": previous.spent_seconds + usage.latency.total_s, "turns": previous.turns + 1,
                "last_endpoint": result.endpoint or previous.last_endpoint})
        outcome = "refused" if result.refused else "fallback" if result.fallback else "answered"
        self.store.record(SpendRecord(
            request_id=request_id, session_id=previous.session_id or None, key_id=caller.key_id, model=model,
            endpoint=result.endpoint, outcome=outcome, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens, dollars=usage.dollars, seconds=usage.latency.total_s), updated, charges.charges)
        capped = result.completion is not None and result.completion.usage_capped
        self.metrics.turn(result.endpoint, result.fallback, charges.charges, capped)
        return result, left

    def _lock(self, session_id: str | None) -> asyncio.Lock:
        if session_id is None:
            return asyncio.Lock()
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    def _session_dollars(self) -> float | None:
        serve = self.config.serve
        return serve.session_dollars if serve.session_dollars is not None else self.config.budget.dollars

    def _request_latency(self) -> float | None:
        serve = self.config.serve
        return serve.request_latency_s if serve.request_latency_s is not None else self.config.budget.latency_s
