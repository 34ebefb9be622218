"""Typed errors: callers catch the kind of failure they can act on, never a bare Exception."""

from __future__ import annotations


class TierlinkError(Exception):
    """Base of every error tierlink raises on purpose."""


class ConfigError(TierlinkError):
    """A configuration value is wrong; names the field and how to fix it."""

    def __init__(self, field: str, problem: str, fix: str) -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"config field '{field}': {problem}. Fix: {fix}")


class DataError(TierlinkError):
    """A data file (outcome table, scores) is malformed; names the file, the place and the fix."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {problem}. Fix: {fix}")


class EndpointError(TierlinkError):
    """An endpoint failed to answer; keeps the upstream message and HTTP status if any."""

    def __init__(self, endpoint: str, message: str, status: int | None = None) -> None:
        self.endpoint = endpoint
        self.upstream_message = message
        self.status = status
        self.accepted = False  # the upstream took the request before failing: it billed the prompt
        where = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"endpoint '{endpoint}' failed{where}: {message}")


class EndpointTimeout(EndpointError):
    """The endpoint did not answer within its timeout."""


class EndpointUnavailable(EndpointError):
    """The endpoint cannot be reached at all (connection refused, DNS, closed mid-stream)."""


class EndpointBusy(EndpointUnavailable):
    """Every slot of the endpoint is taken and its queue is full (or the wait passed the request's
    deadline): try another, or come back in `retry_after` seconds. Says nothing of its health."""

    def __init__(self, endpoint: str, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(endpoint, message)


class RateLimited(EndpointError):
    """The endpoint answered 429 and retries ran out; `retry_after` is its last hint."""

    def __init__(
        self, endpoint: str, message: str, retry_after: float | None, status: int = 429
    ) -> None:
        self.retry_after = retry_after
        super().__init__(endpoint, message, status)


class LinkDown(TierlinkError):
    """The network link between two nodes is in an outage interval."""

    def __init__(self, link: str, at_s: float, until_s: float | None) -> None:
        self.link = link
        self.at_s = at_s
        self.until_s = until_s
        back = f"; back at t={until_s:.2f}s" if until_s is not None else "; no recovery scheduled"
        super().__init__(f"link '{link}' is down at t={at_s:.2f}s{back}")


class UnknownPrompt(TierlinkError):
    """A replay endpoint was asked a prompt it has no recorded answer for."""


class BudgetExceeded(TierlinkError):
    """An action would spend more than the remaining budget allows."""


class ModelNotFound(TierlinkError):
    """A model file or embedded model package is missing."""
