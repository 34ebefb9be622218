"""Token counts for planning: an estimate for display and a bound the budget can rely on.

Remote endpoints tokenize with tokenizers we do not have, so planning needs a count that is
never below the real one. For byte-level BPE tokenizers (GPT, Llama, Gemma, Claude-class
models) every token covers at least one UTF-8 byte, so bytes plus a per-message allowance for
the chat template is a safe upper bound; the ~4 characters per token estimate is for display.
"""

from __future__ import annotations

from collections.abc import Iterable

from tierlink.core.messages import Message

CHARS_PER_TOKEN = 4
TEMPLATE_TOKENS_PER_MESSAGE = 8  # role markers and separators of common chat templates
TEMPLATE_TOKENS_PER_REQUEST = 16  # begin/end-of-sequence and the assistant prefix


def estimate_tokens(text: str) -> int:
    """Typical token count of English text (about 4 characters per token)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def max_tokens_of(messages: Iterable[Message]) -> int:
    """An upper bound on the prompt tokens of `messages` under any byte-level BPE tokenizer."""
    total = TEMPLATE_TOKENS_PER_REQUEST
    for message in messages:
        total += len(message.content.encode("utf-8")) + TEMPLATE_TOKENS_PER_MESSAGE
    return total


def estimated_tokens_of(messages: Iterable[Message]) -> int:
    """Typical prompt tokens of `messages` (for display and soft planning)."""
    return TEMPLATE_TOKENS_PER_REQUEST + sum(
        estimate_tokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages
    )
