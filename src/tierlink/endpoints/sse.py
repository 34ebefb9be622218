"""Server-sent events of a chat-completions stream, read with a byte cap: an upstream cannot make
the gateway hold more than the cap in memory, however long the line it sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tierlink.core.errors import EndpointError


async def sse_data(endpoint: str, response: httpx.Response, byte_cap: int) -> AsyncIterator[Any]:
    """Each `data:` payload as parsed JSON, until `[DONE]` or the end of the body. More than
    `byte_cap` bytes in all, a payload that is not JSON, or an error event is an EndpointError."""
    pending, received = b"", 0
    async for piece in response.aiter_bytes():
        received += len(piece)
        if received > byte_cap:
            raise EndpointError(endpoint, f"stream larger than {byte_cap} bytes; not read further")
        pending += piece
        *lines, pending = pending.split(b"\n")
        for line in lines:
            payload = _payload(endpoint, line)
            if payload is _DONE:
                return
            if payload is not None:
                yield payload
    payload = _payload(endpoint, pending)
    if payload is not None and payload is not _DONE:
        yield payload


_DONE = object()


def _payload(endpoint: str, raw: bytes) -> Any:
    """A `data:` line as JSON (`_DONE` for the end marker); None for blank, comment or other fields."""
    line = raw.rstrip(b"\r")
    if not line.startswith(b"data:"):
        return None
    data = line[5:].strip()
    if data == b"[DONE]":
        return _DONE
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise EndpointError(endpoint, f"malformed stream chunk ({exc}): {data[:80]!r}") from exc
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        raise EndpointError(endpoint, f"error event in the stream: {value['error'].get('message', value['error'])}")
    return value
