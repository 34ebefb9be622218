"""The OpenAI chat-completions wire format as tierlink reads and writes it: attachments as content
parts, bodies read under a byte cap, JSON as attribute namespaces, a stream's running state,
log-probs, and usage estimated when a server reports none."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx

from tierlink.core.messages import Attachment, Request
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.upstream_checks import encodable


@dataclass
class StreamState:
    """What a chat stream has brought so far; `feed` takes one chunk and returns its text, cut to
    the `room` max_tokens leaves (a longer answer ends there, as a length stop)."""

    room: int
    parts: list[str] = field(default_factory=list)
    logprobs: list[Any] = field(default_factory=list)
    usage: Any = None
    finish_reason: str | None = None
    first_token_at: float | None = None

    @property
    def full(self) -> bool:
        """The answer reached what max_tokens allows: stop reading."""
        return self.finish_reason == "length" and self.room == 0

    def feed(self, chunk: Any) -> str:
        """The text piece `chunk` adds; a chunk whose content is not text raises TypeError."""
        self.usage = getattr(chunk, "usage", None) or self.usage
        choices = getattr(chunk, "choices", None)
        if not choices:
            return ""
        choice = choices[0]
        self.finish_reason = getattr(choice, "finish_reason", None) or self.finish_reason
        content = getattr(getattr(choice, "logprobs", None), "content", None)
        if content:
            self.logprobs.extend(content)
        piece = getattr(getattr(choice, "delta", None), "content", None) or ""
        if not isinstance(piece, str):
            raise TypeError(f"delta content is a {type(piece).__name__}, not text")
        text = encodable(piece)[0]
        if len(text) > self.room:
            text, self.finish_reason = text[:self.room], "length"
        self.room -= len(text)
        if text:
            self.first_token_at = self.first_token_at or time.perf_counter()
            self.parts.append(text)
        return text


def content_part(attachment: Attachment) -> dict[str, Any]:
    """An attachment as an OpenAI content part: image_url, input_audio, or file (documents, sensor data)."""
    url = attachment.data_url()
    if attachment.kind == "image":
        return {"type": "image_url", "image_url": {"url": url}}
    if attachment.kind == "audio" and attachment.content() is not None:
        audio_format = "mp3" if attachment.mime in ("audio/mpeg", "audio/mp3") else "wav"
        return {"type": "input_audio", "input_audio": {"data": base64.b64encode(attachment.content() or b"").decode("ascii"),
                                                       "format": audio_format}}
    return {"type": "file", "file": {"filename": attachment.description or f"attachment.{attachment.kind}", "file_data": url}}


async def read_capped(response: httpx.Response, byte_cap: int) -> bytes | None:
    """The body, or None once it passes `byte_cap` bytes (the rest is never read into memory)."""
    received = bytearray()
    async for piece in response.aiter_bytes():
        received += piece
        if len(received) > byte_cap:
            return None
    return bytes(received)


def namespace(value: Any) -> Any:
    """JSON objects as attribute namespaces (the shape the SDK's models have)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [namespace(v) for v in value]
    return value


def estimated_usage(request: Request, text: str, profile: EndpointProfile) -> SimpleNamespace:
    """Token counts when a server streams no usage: ~4 characters per token, attachments at the
    profile's price for them (marked simulated)."""
    prompt_chars = sum(len(m.content) for m in request.messages)
    attached = profile.attachments_tokens(request.attachments)
    return SimpleNamespace(
        prompt_tokens=max(1, prompt_chars // CHARS_PER_TOKEN) + attached,
        completion_tokens=max(1, len(text) // CHARS_PER_TOKEN) if text else 0,
        prompt_tokens_details=None,
    )


def choice_logprobs(logprobs: Any) -> tuple[tuple[float, ...], tuple[dict[str, float], ...]] | None:
    """A choice's token log-probs (chosen, and the top alternatives), if the server sent them."""
    content = getattr(logprobs, "content", None)
    return token_logprobs(content) if content else None


def token_logprobs(content: list[Any]) -> tuple[tuple[float, ...], tuple[dict[str, float], ...]]:
    """Each token's log-prob and its top alternatives, from OpenAI's logprobs.content items."""
    chosen = tuple(float(item.logprob) for item in content)
    tops = tuple(
        {alt.token: float(alt.logprob) for alt in (item.top_logprobs or [])} for item in content
    )
    return chosen, tops
