"""Prometheus metrics of one gateway, in its own registry (no global counters).

Base units, `_total` counters, and no user or session ids as labels (unbounded cardinality):
labels are the model asked for, the endpoint that answered, and outcome classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tierlink.core.ledger import Charge
from tierlink.endpoints.admission import AdmissionEndpoint
from tierlink.endpoints.breaker import CircuitBreaker

BREAKER_CODES = {"closed": 0, "half-open": 1, "open": 2}


class GatewayMetrics:
    """Every gateway metric, updated only through the methods below and the counters' own calls."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tierlink_requests", "Chat requests by model asked for and HTTP status.",
                                ["model", "status"], registry=r)
        self.routes = Counter("tierlink_route_decisions", "Turns answered, by the endpoint that answered.",
                              ["endpoint"], registry=r)
        self.tokens = Counter("tierlink_tokens", "Tokens by endpoint and kind (input, output, cached).",
                              ["endpoint", "kind"], registry=r)
        self.dollars = Counter("tierlink_dollars", "Dollars spent, by endpoint.", ["endpoint"], registry=r)
        self.refusals = Counter("tierlink_budget_refusals", "Requests refused for budget, by scope (session, key).",
                                ["scope"], registry=r)
        self.rate_limited = Counter("tierlink_rate_limited", "Requests refused by a key's rate limit.", registry=r)
        self.fallbacks = Counter("tierlink_fallbacks", "Turns answered by a fallback, by the endpoint that answered.",
                                 ["endpoint"], registry=r)
        self.duration = Histogram("tierlink_request_duration_seconds", "Wall time of chat requests.",
                                  ["model", "stream"], registry=r,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.usage_capped = Counter("tierlink_usage_capped", "Answers whose upstream reported more tokens than the "
                                    "call could use (billed at the bound), by endpoint.", ["endpoint"], registry=r)
        self.in_flight = Gauge("tierlink_requests_in_flight", "Chat requests being answered now.", registry=r)
        self.queued = Gauge("tierlink_endpoint_queue_depth", "Calls waiting for a slot of the endpoint.",
                            ["endpoint"], registry=r)
        self.turned_away = Gauge("tierlink_endpoint_turned_away", "Calls turned away by the endpoint's full queue "
                                 "(or its wait passing the request's deadline), since start.", ["endpoint"], registry=r)
        self.breaker = Gauge("tierlink_breaker_state", "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open.",
                             ["endpoint"], registry=r)

    def watch_queues(self, queues: Mapping[str, AdmissionEndpoint]) -> None:
        """Read each admission queue's depth and turn-aways at scrape time."""
        for endpoint, queue in queues.items():
            self.queued.labels(endpoint).set_function(lambda q=queue: q.waiting)
            self.turned_away.labels(endpoint).set_function(lambda q=queue: q.turned_away)

    def watch_breakers(self, breakers: Mapping[str, CircuitBreaker]) -> None:
        """Read each endpoint's breaker state at scrape time."""
        for endpoint, breaker in breakers.items():
            self.breaker.labels(endpoint).set_function(lambda b=breaker: BREAKER_CODES[b.state])

    def forget(self, endpoint: str) -> None:
        """Stop reporting a departed endpoint's queue and breaker (its counters keep their history)."""
        for gauge in (self.queued, self.turned_away, self.breaker):
            try:
                gauge.remove(endpoint)
            except KeyError:  # it had no such gauge (no queue, or the device's missing breaker)
                continue

    def turn(self, endpoint: str | None, fallback: bool, charges: Iterable[Charge], usage_capped: bool = False) -> None:
        """A finished turn: who answered, and each of its charges under the endpoint that made it."""
        if endpoint is not None:
            self.routes.labels(endpoint).inc()
            if fallback:
                self.fallbacks.labels(endpoint).inc()
            if usage_capped:
                self.usage_capped.labels(endpoint).inc()
        for charge in charges:
            usage = charge.usage
            self.tokens.labels(charge.endpoint, "input").inc(usage.input_tokens)
            self.tokens.labels(charge.endpoint, "output").inc(usage.output_tokens)
            self.tokens.labels(charge.endpoint, "cached").inc(usage.cached_tokens)
            self.dollars.labels(charge.endpoint).inc(usage.dollars)

    def request_done(self, model: str, status: int, stream: bool, seconds: float) -> None:
        """A chat request has ended (its stream too): count it, time it, and it is no longer in flight."""
        self.in_flight.dec()
        self.requests.labels(model, str(status)).inc()
        self.duration.labels(model, str(stream).lower()).observe(seconds)

    def rejected(self, model: str, status: int) -> None:
        """A chat request turned away before it was routed (a malformed body): counted, not timed."""
        self.requests.labels(model, str(status)).inc()

    def render(self) -> bytes:
        """The registry in Prometheus text format, for GET /metrics."""
        return generate_latest(self.registry)
