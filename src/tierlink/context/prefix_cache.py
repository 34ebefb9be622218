"""Which endpoint already holds which conversation prefix, for prompt-caching discounts.

Providers with prompt caching bill a repeated prefix at a lower price. The tracker remembers
the messages each endpoint last received and reports how many leading tokens of a new request
match them.
"""

from __future__ import annotations

from tierlink.core.messages import Message
from tierlink.core.tokens import estimated_tokens_of


class PrefixTracker:
    """Per-session memory of the last prompt sent to each endpoint (not shared across sessions)."""

    def __init__(self) -> None:
        self._sent: dict[str, tuple[Message, ...]] = {}

    def record(self, endpoint: str, messages: tuple[Message, ...]) -> None:
        """Remember what `endpoint` was just sent, so the next request's cached prefix can be counted."""
        self._sent[endpoint] = messages

    def cached_tokens(self, endpoint: str, messages: tuple[Message, ...]) -> int:
        """Estimated tokens of the longest whole-message prefix this endpoint has already seen."""
        previous = self._sent.get(endpoint, ())
        shared = 0
        for old, new in zip(previous, messages, strict=False):
            if old != new:
                break
            shared += 1
        return estimated_tokens_of(messages[:shared]) if shared else 0

    def holds(self) -> dict[str, int]:
        """Messages held per endpoint (for state features)."""
        return {name: len(messages) for name, messages in self._sent.items()}
