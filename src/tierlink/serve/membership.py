"""Endpoints that join and leave a running gateway (the admin routes call this).

A member joins only after a health check (one short call that must answer in time) and the
probe questions it was given, asked and graded; then it is guarded like a configured endpoint,
gets a model name of its own, a place in the fallback chain, and every routing policy that can
weigh a new endpoint without retraining (the `nway` router) is told of it. A member that leaves
is out of every session started afterwards; turns already using it finish, then it is closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tierlink.config.schema import EndpointConfig
from tierlink.core.errors import ConfigError, TierlinkError
from tierlink.core.grading import grade
from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint
from tierlink.routing.policy import JoinEvidence
from tierlink.serve.gateway import Gateway
from tierlink.serve.guards import endpoint_policy
from tierlink.serve.refusals import BadRequest, Conflict, Unavailable, UnknownModel
from tierlink.serve.store import SpendRecord

HEALTH_PROMPT = "Reply with the single word OK."
MEMBER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Probe(BaseModel):
    """A question with its gold answer, asked of a joining endpoint and graded as any benchmark item."""

    model_config = ConfigDict(extra="forbid")
    question: Annotated[str, Field(min_length=1, max_length=8000)]
    answer: Annotated[str, Field(min_length=1, max_length=200)]


class JoinRequest(BaseModel):
    """POST /admin/endpoints: a member's name, its endpoint entry as in the config file, probes."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=MEMBER_NAME, description="The model name clients will ask for.")]
    endpoint: EndpointConfig
    probes: Annotated[list[Probe], Field(max_length=50, description="Graded questions the router learns the member from.")] = []
    probe_max_tokens: Annotated[int, Field(ge=1, le=1024)] = 64
    health_timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0


class JoinReport(BaseModel):
    """What the gateway learned of a member as it joined, and what it now serves."""

    name: str
    tier: str
    health_s: float
    probes: int
    probes_right: float
    probe_dollars: float
    policies: dict[str, str]
    models: list[str]


class Membership:
    """Adds and removes the gateway's endpoints at run time, one change at a time."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def join(self, request: JoinRequest) -> JoinReport:
        """Health-check and probe the endpoint, then make it a member; nothing changes if it fails."""
        gateway, name = self.gateway, request.name
        async with self._lock:
            if name in gateway.policies:
                raise Conflict(f"'{name}' is already a model here; deregister it first, or pick another name", "name")
            try:
                config, endpoint = gateway.deployment.with_member(name, request.endpoint)
            except ConfigError as exc:
                raise _bad(exc, name) from exc
            try:
                health_s = await self.health(name, endpoint, request.health_timeout_s)
                evidence, dollars = await self._probe(name, endpoint, request)
                notes = {model: note for model, policy in gateway.policies.items()
                         if (note := policy.joined(name, evidence)) is not None}
            except BaseException as exc:
                await endpoint.aclose()
                if isinstance(exc, ConfigError):
                    raise _bad(exc, name) from exc
                raise
            guard = gateway.guard(name, endpoint, request.endpoint)
            gateway.deployment.install(config, name, guard.endpoint)
            if guard.breaker is not None:
                gateway.breakers[name] = guard.breaker
                gateway.metrics.watch_breakers({name: guard.breaker})
            gateway.policies[name] = endpoint_policy(name, gateway.deployment.device)
            gateway.members_changed()
        return JoinReport(name=name, tier=config.nodes[request.endpoint.node].tier, health_s=round(health_s, 4),
                          probes=len(evidence.outcomes), probes_right=sum(evidence.outcomes), probe_dollars=dollars,
                          policies=notes, models=gateway.models())

    async def leave(self, name: str) -> list[str]:
        """Take `name` out of routing now; close it once the turns using it are done. The models left."""
        gateway = self.gateway
        async with self._lock:
            self.member(name)
            try:
                endpoint = gateway.deployment.remove(name)
            except ConfigError as exc:
                raise _bad(exc, name) from exc
            del gateway.policies[name]
            for policy in gateway.policies.values():
                policy.left(name)
            gateway.breakers.pop(name, None)
            gateway.admission.pop(name, None)
            gateway.metrics.forget(name)
            gateway.members_changed()
            running = gateway.running_turns()
        closing = asyncio.create_task(self._close_after(endpoint, running))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        return gateway.models()

    def member(self, name: str) -> Endpoint:
        """The endpoint of that name; UnknownModel (404) listing the members if there is none."""
        endpoints = self.gateway.deployment.endpoints
        if name not in endpoints:
            raise UnknownModel(f"no endpoint named '{name}': use one of {', '.join(endpoints)}", "name")
        return endpoints[name]

    async def health(self, name: str, endpoint: Endpoint, timeout_s: float) -> float:
        """Seconds one short call took; Unavailable (503) if it fails or does not answer in time."""
        started = time.perf_counter()
        try:
            await asyncio.wait_for(endpoint.warm(), timeout_s)
            left = max(0.001, timeout_s - (time.perf_counter() - started))
            await asyncio.wait_for(self._ask(name, endpoint, HEALTH_PROMPT, 8), left)
        except TimeoutError as exc:
            raise Unavailable(f"health check of '{name}' failed: no answer within {timeout_s:g}s; "
                              "check its base_url and that it is serving, or raise health_timeout_s") from exc
        except (TierlinkError, OSError, ValueError) as exc:
            raise Unavailable(f"health check of '{name}' failed: {exc}; nothing was added") from exc
        return time.perf_counter() - started

    async def _probe(self, name: str, endpoint: Endpoint, request: JoinRequest) -> tuple[JoinEvidence, float]:
        """Each probe asked and graded; a probe that errors counts as wrong (it is evidence too)."""
        outcomes, dollars = [], 0.0
        for probe in request.probes:
            try:
                completion = await asyncio.wait_for(self._ask(name, endpoint, probe.question, request.probe_max_tokens),
                                                    request.health_timeout_s)
            except (TierlinkError, OSError, ValueError, TimeoutError):
                outcomes.append(0.0)
                continue
            outcomes.append(grade(completion.text, probe.answer))
            dollars += completion.usage.dollars
        ids = tuple(hashlib.sha256(p.question.encode()).hexdigest()[:16] for p in request.probes)
        evidence = JoinEvidence(profile=endpoint.profile, probe_ids=ids, probe_texts=tuple(p.question for p in request.probes),
                                outcomes=tuple(outcomes), dollars_per_call=dollars / max(1, len(outcomes)))
        return evidence, dollars

    async def _ask(self, name: str, endpoint: Endpoint, text: str, max_tokens: int) -> Completion:
        """One admin call, its spend recorded like any request's (model 'admin:join')."""
        completion = await endpoint.complete(Request.of(text, max_tokens=max_tokens, temperature=0.0))
        usage = completion.usage
        self.gateway.store.record(SpendRecord(
            request_id=uuid.uuid4().hex, session_id=None, key_id=None, model="admin:join", endpoint=name, outcome="answered",
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cached_tokens=usage.cached_tokens,
            dollars=usage.dollars, seconds=usage.latency.total_s), None)
        return completion

    @staticmethod
    async def _close_after(endpoint: Endpoint, running: set[asyncio.Task[object]]) -> None:
        """Close a departed member once the turns that were running when it left have ended."""
        if running:
            await asyncio.wait(running)
        await endpoint.aclose()


def _bad(error: ConfigError, name: str) -> BadRequest:
    """A config error about the member as a 400 naming the request's field ('endpoint.node')."""
    field = error.field.replace(f"endpoints.{name}.", "endpoint.", 1)
    return BadRequest(f"{field}: {error.problem}; {error.fix}", field)
