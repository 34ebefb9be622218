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
from tierlink.config.schema import LlamaCppConfig, TierlinkConfig
from tierlink.core.budget import Budget
from tierlink.core.messages import Request
from tierlink.core.usage import Latency, Usage
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.breaker import BreakerEndpoint, CircuitBreaker
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import Policy, make_policy
from tierlink.routing.session import Session, TextSink, TurnResult
from tierlink.serve.errors import not_found, over_budget, rate_limited, unauthorized, unavailable
from tierlink.serve.keys import KeyRecord
from tierlink.serve.metrics import GatewayMetrics
from tierlink.serve.ratelimit import RateLimiter
from tierlink.serve.store import SessionRecord, SpendRecord, Store
from tierlink.serve.wire import ChatRequest

TIER_ORDER = {"cloud": 0, "edge": 1, "device": 2}


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API key and what it has spent, or nobody (keys not required)."""

    key: KeyRecord | None = None
    key_spent: float = 0.0

    @property
    def key_id(self) -> str | None:
        return self.key.key_id if self.key else None


@dataclass(frozen=True)
class ChatOutcome:
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
        self.config = config
        self.store = store
        self.metrics = metrics or GatewayMetrics()
        self.require_keys = require_keys
        self.deployment: Deployment = build_deployment(config, record_transfers=False)
        self.breakers = self._guard_endpoints()
        self.metrics.watch_breakers(self.breakers)
        self.policies = self._policies()
        self.fallback = config.serve.fallback or tuple(sorted(
            config.endpoints, key=lambda n: TIER_ORDER[config.nodes[config.endpoints[n].node].tier]))
        self.limiter = RateLimiter()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: set[asyncio.Task[ChatOutcome]] = set()  # running turns, held so none is collected mid-flight
        self._held: dict[str, float] = {}  # dollars held by each key's requests in flight
        self.ready = False

    # -- set-up -----------------------------------------------------------------------------

    def _guard_endpoints(self) -> dict[str, CircuitBreaker]:
        """Every endpoint but the device (the last resort) behind its own circuit breaker."""
        settings = self.config.serve.breaker
        breakers = {}
        for name, endpoint in self.deployment.endpoints.items():
            if name == self.deployment.device:
                continue
            breaker = CircuitBreaker(settings.failures_to_open, settings.reset_after_s)
            if isinstance(endpoint, LinkedEndpoint):
                endpoint.inner = BreakerEndpoint(endpoint.inner, breaker)
            else:
                self.deployment.endpoints[name] = BreakerEndpoint(endpoint, breaker)
            breakers[name] = breaker
        return breakers

    def _policies(self) -> dict[str, Policy]:
        config = self.config
        policies = {"tierlink-auto": make_policy(config.policy.name, **config.policy.params)}
        cascade = config.policy.params if config.policy.name == "cascade" else device_cascade(config)
        policies["tierlink-cascade"] = make_policy("cascade", **cascade)
        if config.serve.learned_model is not None:
            policies["tierlink-learned"] = make_policy("learned", model=str(config.serve.learned_model))
        for name in config.endpoints:  # an endpoint by name: that endpoint, with the fallback chain
            policies[name] = (make_policy("always-device") if name == self.deployment.device
                              else make_policy("always-cloud", target=name))
        return policies

    def models(self) -> list[str]:
        return list(self.policies)

    async def warm_up(self) -> None:
        """Load in-process models (blocking work in a thread); then the gateway is ready."""
        for name, spec in self.config.endpoints.items():
            if isinstance(spec, LlamaCppConfig):
                endpoint: Endpoint | None = self.deployment.endpoints[name]
                while endpoint is not None and not hasattr(endpoint, "load"):
                    endpoint = getattr(endpoint, "inner", None)
                if endpoint is not None:
                    await asyncio.to_thread(endpoint.load)  # type: ignore[attr-defined]
        self.ready = True

    def track(self, turn: asyncio.Task[ChatOutcome]) -> asyncio.Task[ChatOutcome]:
        """Hold a running turn until it ends (a client may leave before it does)."""
        self._turns.add(turn)
        turn.add_done_callback(self._turns.discard)
        return turn

    async def drain(self, timeout_s: float) -> None:
        """Let running turns finish (and record their spend) before shutting down."""
        if self._turns and timeout_s > 0:
            await asyncio.wait(set(self._turns), timeout=timeout_s)

    async def aclose(self) -> None:
        await self.deployment.aclose()

    # -- requests ---------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller:
        token = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        required = self.require_keys or self.store.has_active_keys()  # a key created after start counts at once
        if token is None:
            if required:
                raise unauthorized("missing API key: send 'Authorization: Bearer <key>' "
                                   "(create one with `tierlink keys create`)")
            return Caller()
        found = self.store.key_for(token)
        if found is None:
            if not required:
                return Caller()
            raise unauthorized("invalid or revoked API key (see `tierlink keys list`)")
        return Caller(*found)

    async def chat(self, body: ChatRequest, caller: Caller, session_header: str | None = None,
                   sink: TextSink | None = None) -> ChatOutcome:
        """Answer one chat request; with a `sink`, the answer's pieces go to it as they arrive."""
        policy = self.policies.get(body.model)
        if policy is None:
            raise not_found(f"unknown model '{body.model}': use one of {', '.join(self.models())}", "model")
        messages = body.tierlink_messages()
        key = caller.key
        if key is not None:
            wait = self.limiter.take(key.key_id, key.requests_per_minute)
            if wait > 0:
                self.metrics.rate_limited.inc()
                raise rate_limited(f"key '{key.name}' is limited to {key.requests_per_minute} requests per minute; "
                                   f"retry in {wait:.1f}s", wait)
        key_left = None if key is None or key.dollars_limit is None else key.dollars_limit - caller.key_spent
        if key_left is not None and key_left <= 0:
            self.metrics.refusals.labels("key").inc()
            raise over_budget(f"key '{key.name}' has spent ${caller.key_spent:.6f} of its ${key.dollars_limit:.6f} budget"  # type: ignore[union-attr]
                              " (raise it with a new key, or wait for an administrator)")
        public = session_header or body.user
        session_id = f"{caller.key_id or 'open'}:{public}" if public else None
        request = Request(messages=(messages[-1],), max_tokens=body.output_cap, temperature=body.temperature or 0.0,
                          stop=body.stop_words, seed=body.seed)
        lock = self._lock(session_id)
        async with lock:
            record = self.store.session(session_id) if session_id else None
            session_left = record.dollars_left if record else self._session_dollars()
            if session_left is not None and session_left <= 0:
                self.metrics.refusals.labels("session").inc()
                spent = record.spent_dollars if record else 0.0
                raise over_budget(f"session '{public}' has used its budget (spent ${spent:.6f}; start a new session id)")
            session = self.deployment.session(policy, Budget(), fallback=self.fallback,
                                              stream_upstream=self.config.serve.stream_upstream)
            previous = record or SessionRecord(session_id=session_id or "", key_id=caller.key_id, dollars_left=session_left)
            session.resume(messages[:-1], Usage(dollars=previous.spent_dollars, latency=Latency(decode_s=previous.spent_seconds)),
                           previous.turns, previous.last_endpoint)
            # a key's budget is shared by its concurrent requests: each holds what it could spend at
            # most while it runs, so together they can never spend more than the key has left
            if key_left is not None:  # re-read: other requests of this key may have spent since authentication
                key_left = key.dollars_limit - self.store.key_spent(key.key_id)  # type: ignore[union-attr,operator]
            hold = None if key_left is None else min(max(0.0, key_left - self._held.get(key.key_id, 0.0)),  # type: ignore[union-attr]
                                                      session.worst_case_dollars(request))
            limits = [x for x in (session_left, hold) if x is not None]
            scope = "key" if hold is not None and (session_left is None or hold <= session_left) else "session"
            session.budget = session.initial_budget = Budget(latency_s=self._request_latency(), dollars=min(limits) if limits else None)
            if hold is not None:
                self._held[key.key_id] = self._held.get(key.key_id, 0.0) + hold  # type: ignore[union-attr]
            try:
                # shielded: a client that goes away does not cancel a turn that may already cost money
                result = await asyncio.shield(self._turn(session, request, body.model, caller, session_id, previous, sink))
            finally:
                if hold is not None:
                    self._held[key.key_id] -= hold  # type: ignore[union-attr]
        outcome = ChatOutcome(request_id=result[0], created=int(time.time()), model=body.model, session_id=public,
                              result=result[1], session_dollars_left=result[2],
                              key_dollars_left=None if key_left is None else key_left - result[1].usage.dollars)
        if outcome.result.refused:
            if outcome.result.over_budget:
                self.metrics.refusals.labels(scope).inc()
                raise over_budget(f"no endpoint fits the {scope}'s budget left: {outcome.result.reason}")
            if outcome.result.partial:
                raise unavailable(f"the answer broke off: {outcome.result.reason}")
            raise unavailable(f"no endpoint could answer: {outcome.result.reason}")
        return outcome

    async def _turn(self, session: Session, request: Request, model: str, caller: Caller, session_id: str | None,
                    previous: SessionRecord, sink: TextSink | None) -> tuple[str, TurnResult, float | None]:
        """Ask, then record the spend and the session's new state together."""
        result = await session.ask(request, sink)
        usage = result.usage
        request_id = uuid.uuid4().hex
        left = None if previous.dollars_left is None else max(0.0, previous.dollars_left - usage.dollars)
        updated = None
        if session_id is not None:
            updated = previous.model_copy(update={
                "dollars_left": left, "spent_dollars": previous.spent_dollars + usage.dollars,
                "spent_seconds": previous.spent_seconds + usage.latency.total_s, "turns": previous.turns + 1,
                "last_endpoint": result.endpoint or previous.last_endpoint})
        outcome = "refused" if result.refused else "fallback" if result.fallback else "answered"
        self.store.record(SpendRecord(
            request_id=request_id, session_id=session_id, key_id=caller.key_id, model=model, endpoint=result.endpoint,
            outcome=outcome, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens, dollars=usage.dollars, seconds=usage.latency.total_s), updated)
        self.metrics.turn(result.endpoint, usage, result.fallback)
        return request_id, result, left

    def _lock(self, session_id: str | None) -> asyncio.Lock:
        if session_id is None:
            return asyncio.Lock()
        lock = self._locks.get(session_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session_id] = lock
        return lock

    def _session_dollars(self) -> float | None:
        serve = self.config.serve
        return serve.session_dollars if serve.session_dollars is not None else self.config.budget.dollars

    def _request_latency(self) -> float | None:
        serve = self.config.serve
        return serve.request_latency_s if serve.request_latency_s is not None else self.config.budget.latency_s
