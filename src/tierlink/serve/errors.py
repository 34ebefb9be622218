"""Errors as the OpenAI API shapes them: {"error": {"message", "type", "param", "code"}}.

Clients (the official SDKs included) map the status code to an exception class and show the
message, so every message says what went wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from tierlink.serve.refusals import (
    BadRequest,
    Busy,
    Conflict,
    Forbidden,
    OverBudget,
    RateLimited,
    Refusal,
    Unauthorized,
    Unavailable,
    UnknownModel,
)


class ApiError(Exception):
    """An error the gateway answers with; `headers` e.g. Retry-After."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The OpenAI-shaped error body the SDKs parse."""
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        """The error as a JSON response with its status and headers (e.g. Retry-After)."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, param: str | None = None, code: str = "invalid_request") -> ApiError:
    """400: the request itself is wrong; `param` names the offending field, `code` OpenAI's kind."""
    return ApiError(400, message, "invalid_request_error", code, param)


def unauthorized(message: str, param: str | None = None) -> ApiError:
    """401: the API key is missing, invalid or revoked."""
    return ApiError(401, message, "invalid_request_error", "invalid_api_key", param)


def forbidden(message: str, param: str | None = None) -> ApiError:
    """403: the key is valid but may not do this (admin routes need the admin key)."""
    return ApiError(403, message, "permission_error", "forbidden", param)


def conflict(message: str, param: str | None = None) -> ApiError:
    """409: the request clashes with what is already here (a member of that name)."""
    return ApiError(409, message, "invalid_request_error", "conflict", param)


def not_found(message: str, param: str | None = None) -> ApiError:
    """404: no routing model or endpoint has that name."""
    return ApiError(404, message, "invalid_request_error", "model_not_found", param)


def over_budget(message: str, param: str | None = None) -> ApiError:
    """402: the session's or the key's dollar budget cannot cover the turn."""
    return ApiError(402, message, "insufficient_quota", "budget_exhausted", param)


def rate_limited(message: str, retry_after_s: float) -> ApiError:
    """429 with Retry-After in whole seconds, rounded up (at least 1)."""
    return ApiError(429, message, "rate_limit_error", "rate_limit_exceeded",
                    headers={"Retry-After": str(max(1, round(retry_after_s + 0.5)))})


def unavailable(message: str, param: str | None = None) -> ApiError:
    """503: no endpoint could answer the turn."""
    return ApiError(503, message, "server_error", "no_endpoint_available", param)


def busy(message: str, retry_after_s: float) -> ApiError:
    """503 with Retry-After: the endpoints' queues are full; the request was not started."""
    return ApiError(503, message, "server_error", "overloaded",
                    headers={"Retry-After": str(max(1, round(retry_after_s + 0.5)))})


def api_error(refusal: Refusal) -> ApiError:
    """The OpenAI error object for a refusal of the gateway's engine."""
    if isinstance(refusal, Busy):
        return busy(refusal.message, refusal.retry_after_s)
    if isinstance(refusal, RateLimited):
        return rate_limited(refusal.message, refusal.retry_after_s)
    if isinstance(refusal, BadRequest):
        return bad_request(refusal.message, refusal.param, refusal.code)
    return _SHAPES[type(refusal)](refusal.message, refusal.param)


_SHAPES: dict[type[Refusal], Callable[..., ApiError]] = {BadRequest: bad_request, Unauthorized: unauthorized, UnknownModel: not_found,
           Forbidden: forbidden, Conflict: conflict,
           OverBudget: over_budget, Unavailable: unavailable}
