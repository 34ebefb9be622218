"""What the gateway gives each endpoint, the same for configured and joined members: a bounded
queue, a circuit breaker for every endpoint but the device (the last resort), a model name of its
own, and a place in the fallback chain."""

from __future__ import annotations

from dataclasses import dataclass

from tierlink.config.schema import BreakerConfig, EndpointConfig, LlamaCppConfig, TierlinkConfig
from tierlink.endpoints.admission import AdmissionEndpoint
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.breaker import BreakerEndpoint, CircuitBreaker
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import Policy, make_policy

TIER_ORDER = {"cloud": 0, "edge": 1, "device": 2}


@dataclass(frozen=True)
class Guarded:
    """An endpoint behind its guards, and the guards themselves (for metrics and busy replies)."""

    endpoint: Endpoint
    breaker: CircuitBreaker | None
    admission: AdmissionEndpoint | None


def guarded(endpoint: Endpoint, spec: EndpointConfig, settings: BreakerConfig, is_device: bool) -> Guarded:
    """`endpoint` behind its admission limits (in-process models one call at a time by default)
    and, unless it is the device, a breaker; a linked endpoint keeps its link outermost, so a
    call turned away by a guard never pays for the link."""
    linked = endpoint if isinstance(endpoint, LinkedEndpoint) else None
    inner = linked.inner if linked else endpoint
    limit = spec.max_concurrency or (1 if isinstance(spec, LlamaCppConfig) else None)
    admission = None if limit is None else AdmissionEndpoint(inner, limit, spec.max_queue)
    inner = admission or inner
    breaker = None
    if not is_device:
        breaker = CircuitBreaker(settings.failures_to_open, settings.reset_after_s)
        inner = BreakerEndpoint(inner, breaker)
    if linked is not None:
        linked.inner = inner
        return Guarded(linked, breaker, admission)
    return Guarded(inner, breaker, admission)


def endpoint_policy(name: str, device: str) -> Policy:
    """The policy of model `name`: that endpoint, with the fallback chain behind it."""
    return make_policy("always-device") if name == device else make_policy("always-cloud", target=name)


def fallback_order(config: TierlinkConfig) -> tuple[str, ...]:
    """The configured fallback chain, else every endpoint by tier: cloud, edge, device."""
    return config.serve.fallback or tuple(sorted(
        config.endpoints, key=lambda n: TIER_ORDER[config.nodes[config.endpoints[n].node].tier]))
