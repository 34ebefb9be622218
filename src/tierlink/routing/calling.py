"""One call to one endpoint under a reservation: check the worst case fits the budget left,
call (streaming to a sink when there is one), and say what the call is to be charged. The
session makes the charge; nothing here spends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tierlink.context.prefix_cache import PrefixTracker
from tierlink.core.budget import Budget
from tierlink.core.errors import EndpointBusy, EndpointError, TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.core.shared_dollars import SharedDollars
from tierlink.core.tokens import estimate_tokens, estimated_tokens_of
from tierlink.core.usage import Usage
from tierlink.endpoints.base import Endpoint, collect
from tierlink.routing.outgoing import Outgoing, link_of
from tierlink.routing.reservation import reserve
from tierlink.routing.turn import Call, Miss

TextSink = Callable[[str], None]  # receives the answer's pieces as they arrive


@dataclass(frozen=True)
class Attempt:
    """A call's outcome, what it is to be charged, and the reservation it was held to."""

    outcome: Call | Miss
    charge: Usage | None = None  # None: nothing was billed (a failure before any answer came back)
    reserved: Usage | None = None


def worst_case(endpoint: Endpoint, request: Request) -> Usage:
    """The reservation for sending `request` to `endpoint` (exact where the endpoint can quote)."""
    return reserve(request, endpoint.profile, link_of(endpoint), endpoint.quote(request))


async def attempt(name: str, endpoint: Endpoint, outgoing: Outgoing, budget: Budget, prefixes: PrefixTracker,
                  sink: TextSink | None = None, stream: bool = False, shared: SharedDollars | None = None) -> Attempt:
    """Reserve the worst case (from `shared` dollars too, while the call runs), then call; a Miss
    explains why nothing came back."""
    request = outgoing.request
    try:
        worst = worst_case(endpoint, request)
    except TierlinkError as exc:
        return Attempt(Miss(f"{name} cannot answer ({exc})"))
    if not budget.fits(worst):
        return Attempt(Miss(f"{name} does not fit the budget left (needs up to ${worst.dollars:.5f}, "
                            f"~{worst.latency.total_s:.1f}s; left {budget_left(budget)})", over_budget=True))
    if shared is not None and not shared.hold(worst.dollars):
        return Attempt(Miss(f"{name} does not fit the shared budget beside the calls in flight (needs up to "
                            f"${worst.dollars:.5f}; ${shared.free:.5f} free)", over_budget=True))
    tried: Attempt | None = None
    try:
        tried = await _called(name, endpoint, outgoing, worst, prefixes, sink, stream)
        return tried
    finally:
        if shared is not None:
            shared.settle(worst.dollars, tried.charge.dollars if tried is not None and tried.charge is not None else 0.0)


async def _called(name: str, endpoint: Endpoint, outgoing: Outgoing, worst: Usage, prefixes: PrefixTracker,
                  sink: TextSink | None, stream: bool) -> Attempt:
    """The call itself, reserved already: its answer, or why it failed and what it billed."""
    request = outgoing.request
    received: list[str] = []  # what came back before any failure (and went to the sink, if any)
    try:
        if sink is not None or stream:
            completion = await collect(endpoint.stream(request), _tee(sink, received))
        else:
            completion = await endpoint.complete(request)
    except TierlinkError as exc:
        accepted = isinstance(exc, EndpointError) and exc.accepted
        billed = _estimate_partial(endpoint, request, "".join(received)) if received or accepted else None
        partial = sink is not None and bool(received)  # the listener already has part of this answer
        why = f"{name} failed after part of its answer was sent: {exc}" if partial else f"{name} failed: {exc}"
        busy = exc.retry_after if isinstance(exc, EndpointBusy) else None
        return Attempt(Miss(why, partial=partial, retry_after_s=busy), charge=billed, reserved=worst)
    completion = with_prefix_cache(name, endpoint, prefixes, request, completion)
    return Attempt(Call(completion, outgoing.sent, outgoing.plan), charge=completion.usage, reserved=worst)


def _estimate_partial(endpoint: Endpoint, request: Request, text: str) -> Usage:
    """The upstream took the request (and billed its prompt and what it sent) but reported no
    usage: charge an estimate (simulated)."""
    attached = endpoint.profile.attachments_tokens(request.attachments)
    tokens_in, tokens_out = estimated_tokens_of(request.messages) + attached, estimate_tokens(text)
    return Usage(input_tokens=tokens_in, output_tokens=tokens_out,
                 dollars=endpoint.profile.dollars(tokens_in, tokens_out), origins=frozenset({"simulated"}))


def with_prefix_cache(name: str, endpoint: Endpoint, prefixes: PrefixTracker, request: Request,
                      completion: Completion) -> Completion:
    """Charge a prefix this endpoint already holds at its cached price, for endpoints whose
    numbers are not live (a live server reports its own cached tokens)."""
    profile = endpoint.profile
    usage = completion.usage
    if completion.origin == "live" or usage.cached_tokens or not profile.supports_prompt_cache:
        return completion
    cached = min(prefixes.cached_tokens(name, request.messages), usage.input_tokens)
    if not cached:
        return completion
    discounted = usage.model_copy(update={
        "cached_tokens": cached,
        "dollars": min(usage.dollars, profile.dollars(usage.input_tokens, usage.output_tokens, cached)),
        "origins": usage.origins | {"simulated"},
    })
    return completion.model_copy(update={"usage": discounted})


def budget_left(budget: Budget) -> str:
    """The budget left, as a person reads it."""
    parts = []
    if budget.dollars is not None:
        parts.append(f"${budget.dollars:.5f}")
    if budget.latency_s is not None:
        parts.append(f"{budget.latency_s:.1f}s")
    return ", ".join(parts) or "unlimited"


def _tee(sink: TextSink | None, kept: list[str]) -> TextSink:
    """A sink that keeps what it passes on (to `sink`, when there is one)."""
    def forward(text: str) -> None:
        if sink is not None:
            sink(text)
        kept.append(text)
    return forward
