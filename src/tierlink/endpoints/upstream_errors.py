"""An upstream's failure as a typed tierlink error that keeps the upstream's own message."""

from __future__ import annotations

from typing import Any

import httpx

from tierlink.core.errors import EndpointError, RateLimited
from tierlink.endpoints.retry_after import retry_after_seconds


def status_error(endpoint: str, status: int, headers: Any, message: str) -> EndpointError:
    """429, or 503 with Retry-After, is RateLimited (its hint honoured); any other status an EndpointError."""
    retry_after = retry_after_seconds(headers)
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(endpoint, message, retry_after, status=status)
    return EndpointError(endpoint, message, status=status)


def error_message(response: httpx.Response) -> str:
    """The upstream's own message from an OpenAI error object, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    inner = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"])
    return str(body)[:300]
