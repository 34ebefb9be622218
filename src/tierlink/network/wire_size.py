"""Bytes on the wire: the serialized size of a request or response as an OpenAI-style body.

Counting real serialized JSON (not characters or tokens) keeps the ledger honest for any
endpoint, including in-process ones that never touch a socket.
"""

from __future__ import annotations

import json

from tierlink.core.messages import Completion, Request


def request_bytes(request: Request, model: str) -> int:
    """UTF-8 size of the chat-completions body, plus attachments base64-encoded (4/3)."""
    body = {
        "model": model,
        "messages": [m.model_dump() for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.stop:
        body["stop"] = list(request.stop)
    encoded = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    attachments = sum(4 * ((a.size_bytes + 2) // 3) for a in request.attachments)
    return encoded + attachments


def response_bytes(completion: Completion) -> int:
    """UTF-8 size of the chat-completions response body for this completion."""
    body = {
        "model": completion.model,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.text},
                "finish_reason": completion.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": completion.usage.input_tokens,
            "completion_tokens": completion.usage.output_tokens,
        },
    }
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
