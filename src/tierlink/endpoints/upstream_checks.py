"""What an upstream claims, checked before it is billed or shown: token counts within what the
call could have used (the budget's reservation is built on that bound), text that can be encoded,
and answers no longer than `max_tokens` allows.

An upstream that reports more tokens than the bound is capped at the bound (and flagged: the
call's `usage_capped` note, the breaker, the gateway's metrics); one that reports negative or
non-integer counts is broken, an EndpointError the session falls back from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tierlink.core.errors import EndpointError
from tierlink.core.messages import Request
from tierlink.core.tokens import max_tokens_of
from tierlink.endpoints.profile import EndpointProfile

MAX_CHARS_PER_TOKEN = 64  # no tokenizer in use has longer tokens; a longer answer broke max_tokens
RESPONSE_BYTE_FLOOR = 1 << 20  # a non-streamed body may always be this big (JSON envelope, logprobs)
ESCAPED_BYTES_PER_CHAR = 12  # a JSON-escaped character with its logprob entry, generously
USAGE_CAPPED = "usage capped"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class CheckedUsage:
    """Token counts an endpoint may bill, and what was changed to get them."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int
    notes: tuple[str, ...] = ()

    @property
    def capped(self) -> bool:
        """Did the upstream report more than the call could have used?"""
        return any(note.startswith(USAGE_CAPPED) for note in self.notes)


def input_bound(request: Request, profile: EndpointProfile | None = None) -> int:
    """The most prompt tokens `request` can be, under any byte-level tokenizer, with its
    attachments at the profile's price for them (the reservation's own bound)."""
    attached = profile.attachments_tokens(request.attachments) if profile is not None else 0
    return max_tokens_of(request.messages) + attached


def output_char_cap(request: Request) -> int:
    """The longest answer text `max_tokens` tokens can be."""
    return request.max_tokens * MAX_CHARS_PER_TOKEN


def response_byte_cap(request: Request) -> int:
    """The largest non-streamed body worth reading for `request`; beyond it the upstream is broken."""
    return RESPONSE_BYTE_FLOOR + output_char_cap(request) * ESCAPED_BYTES_PER_CHAR


def _count(endpoint: str, usage: Any, field: str) -> int:
    value = getattr(usage, field, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EndpointError(endpoint, f"malformed usage: {field} is {value!r} (a count of tokens cannot be that)")
    return value


def checked_usage(endpoint: str, request: Request, usage: Any, profile: EndpointProfile | None = None) -> CheckedUsage:
    """The upstream's token counts, capped at what the call could have used; malformed ones raise."""
    input_tokens, output_tokens = _count(endpoint, usage, "prompt_tokens"), _count(endpoint, usage, "completion_tokens")
    details = getattr(usage, "prompt_tokens_details", None)
    cached = _count(endpoint, details, "cached_tokens") if details is not None else 0
    notes = []
    bound_in, bound_out = input_bound(request, profile), request.max_tokens
    if input_tokens > bound_in or output_tokens > bound_out:
        notes.append(f"{USAGE_CAPPED}: {endpoint} reported {input_tokens}/{output_tokens} input/output tokens for a "
                     f"call that can use at most {bound_in}/{bound_out}; billed at the bound")
        input_tokens, output_tokens = min(input_tokens, bound_in), min(output_tokens, bound_out)
    return CheckedUsage(input_tokens, output_tokens, min(cached, input_tokens), tuple(notes))


def encodable(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with lone surrogates (which no UTF-8 encoder accepts) replaced by U+FFFD."""
    cleaned, replaced = _LONE_SURROGATE.subn("\ufffd", text)
    return cleaned, ((f"{replaced} unencodable character(s) in the answer replaced by U+FFFD",) if replaced else ())


def bounded_text(request: Request, text: str) -> tuple[str, bool]:
    """`text` cut to what `max_tokens` tokens can hold; True if it had to be cut."""
    cap = output_char_cap(request)
    return (text[:cap], True) if len(text) > cap else (text, False)
