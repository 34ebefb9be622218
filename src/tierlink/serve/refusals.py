"""Why the gateway's engine turns a request away, as domain errors free of HTTP: `app.py` maps
each kind to its status code and OpenAI error object (`serve.errors.api_error`)."""

from __future__ import annotations

from tierlink.core.errors import TierlinkError


class Refusal(TierlinkError):
    """A request the gateway will not (or cannot) answer; the message says what to do."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


class BadRequest(Refusal):
    """The request asks for something tierlink cannot honour; `code` is OpenAI's error code."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_request") -> None:
        super().__init__(message, param)
        self.code = code


class Unauthorized(Refusal):
    """A key is needed and none, or a wrong or revoked one, was sent."""


class Forbidden(Refusal):
    """The caller is known but may not do this (an admin route without the admin key)."""


class Conflict(Refusal):
    """The request clashes with the gateway's state (a member of that name is already here)."""


class UnknownModel(Refusal):
    """The model named is none of the gateway's policies or endpoints."""


class OverBudget(Refusal):
    """The session's or key's dollars are spent, or no call fits what is left."""


class RateLimited(Refusal):
    """The key sent more requests per minute than it may."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(Refusal):
    """No endpoint could answer, or the answer broke off after it began."""


class Busy(Refusal):
    """Every endpoint that could answer has its slots taken and its queue full; come back later."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
