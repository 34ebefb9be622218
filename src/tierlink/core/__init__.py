"""Core types shared by every tierlink module."""

from tierlink.core.budget import Budget
from tierlink.core.errors import (
    BudgetExceeded,
    ConfigError,
    DataError,
    EndpointError,
    EndpointTimeout,
    EndpointUnavailable,
    LinkDown,
    ModelNotFound,
    RateLimited,
    TierlinkError,
    UnknownPrompt,
)
from tierlink.core.ledger import Charge, ChargeSink, Ledger, Totals, Transfer
from tierlink.core.messages import Attachment, Completion, Message, Request
from tierlink.core.usage import Latency, Origin, Usage

__all__ = [
    "Attachment",
    "Budget",
    "BudgetExceeded",
    "Completion",
    "ConfigError",
    "DataError",
    "EndpointError",
    "EndpointTimeout",
    "EndpointUnavailable",
    "Latency",
    "Charge",
    "ChargeSink",
    "Ledger",
    "LinkDown",
    "Message",
    "ModelNotFound",
    "Origin",
    "RateLimited",
    "Request",
    "TierlinkError",
    "Totals",
    "Transfer",
    "UnknownPrompt",
    "Usage",
]
