"""Server-sent events of a chat-completions stream, read with a byte cap: an upstream cannot make
the gateway hold more than the cap in memory, however long the line it sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tierlink.core.errors import EndpointError


async def sse_data(endpoint: str, response: httpx.Response, byte_cap: int) -> AsyncIterator[Any]:
    """Each event's data as parsed JSON (an event's `data:` lines joined, as the SSE spec says),
    until `[DONE]` or the end of the body. More than `byte_cap` bytes in all, data that is not
    JSON, or an error event is an EndpointError."""
    pending, received = b"", 0
    data: list[bytes] = []  # the current event's data lines
    async for piece in response.aiter_bytes():
        received += len(piece)
        if received > byte_cap:
            raise EndpointError(endpoint, f"stream larger than {byte_cap} bytes; not read further")
        pending += piece
        *lines, pending = pending.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if line.startswith(b"data:"):
                data.append(line[5:].strip())
            elif not line and data:  # a blank line ends the event
                payload, data = _payload(endpoint, b"\n".join(data)), []
                if payload is _DONE:
                    return
                yield payload
    if pending.rstrip(b"\r").startswith(b"data:"):
        data.append(pending.rstrip(b"\r")[5:].strip())
    if data:
        payload = _payload(endpoint, b"\n".join(data))
        if payload is not _DONE:
            yield payload


_DONE = object()


def _payload(endpoint: str, data: bytes) -> Any:
    """One event's data as JSON (`_DONE` for the end marker); not JSON, or an error event, raises."""
    if data == b"[DONE]":
        return _DONE
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        raise EndpointError(endpoint, f"malformed stream chunk ({type(exc).__name__}): {data[:80]!r}") from exc
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        raise EndpointError(endpoint, f"error event in the stream: {value['error'].get('message', value['error'])}")
    return value
