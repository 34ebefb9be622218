"""Worst-case reservation of a call before it is made: the basis of hard budgets.

Dollars are bounded, never estimated: prompt tokens use a byte-level upper bound (or the
exact figure a replay endpoint knows), output tokens use max_tokens, and no prompt-cache
discount is assumed. Latency is a prediction from the link and the profile (a call may take
longer; such overruns are counted as latency violations, they cannot be prevented).
"""

from __future__ import annotations

from tierlink.core.messages import Request
from tierlink.core.tokens import estimated_tokens_of
from tierlink.core.usage import Latency, Usage
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.upstream_checks import input_bound
from tierlink.network.link import Link
from tierlink.network.wire_size import request_bytes

RESPONSE_BYTES_PER_TOKEN = 8  # UTF-8 text plus JSON escaping, generous
RESPONSE_OVERHEAD_BYTES = 400  # the chat-completion envelope


def reserve(
    request: Request, profile: EndpointProfile, link: Link | None, exact: Usage | None = None
) -> Usage:
    """Worst-case usage of sending `request` to an endpoint with `profile` over `link`."""
    bound_in = input_bound(request, profile)  # the same bound an upstream's usage is checked against
    typical_in = estimated_tokens_of(request.messages) + profile.attachments_tokens(request.attachments)
    out = request.max_tokens
    dollars = profile.dollars(bound_in, out)
    if exact is not None:  # a replay endpoint knows the record it will serve
        dollars = max(exact.dollars, 0.0)
        bound_in, out = exact.input_tokens, exact.output_tokens
        typical_in = bound_in
    network = 0.0
    up = down = 0
    if link is not None:
        up = request_bytes(request, profile.model)
        down = RESPONSE_OVERHEAD_BYTES + RESPONSE_BYTES_PER_TOKEN * out
        network = link.transfer_seconds(up, "up") + link.transfer_seconds(down, "down")
    compute = profile.predicted_seconds(typical_in, out)
    return Usage(
        input_tokens=bound_in,
        output_tokens=out,
        bytes_up=up,
        bytes_down=down,
        latency=Latency(network_s=network, decode_s=compute),
        dollars=dollars,
        joules=profile.power_w * compute,
        origins=frozenset({"simulated"}),
    )
