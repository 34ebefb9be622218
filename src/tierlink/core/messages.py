"""Wire types of a turn: Message, Attachment, Request and Completion."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.usage import Origin, Usage

Role = Literal["system", "user", "assistant"]
AttachmentKind = Literal["image", "document", "audio", "sensor"]


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class Attachment(BaseModel):
    """An input that may or may not be uploaded with a turn (image, document, sensor data)."""

    model_config = ConfigDict(frozen=True)

    kind: AttachmentKind
    mime: str
    size_bytes: int = Field(ge=0)
    width_px: int | None = Field(None, gt=0, description="Image width: providers bill images by their size.")
    height_px: int | None = Field(None, gt=0, description="Image height.")
    description: str = Field("", description="Caption or description, used to judge relevance.")
    path: Path | None = None
    data: bytes | None = Field(None, repr=False, exclude=True, description="The bytes themselves (else `path` or `url`).")
    url: str | None = Field(None, description="An http(s) URL the endpoint fetches itself (tierlink never does).")
    private: bool = Field(False, description="Must stay inside the allowed privacy zones.")

    def content(self) -> bytes | None:
        """The attachment's bytes: held, or read from `path`; None for a URL-only attachment."""
        if self.data is not None:
            return self.data
        return self.path.read_bytes() if self.path is not None else None

    def data_url(self) -> str | None:
        """The bytes as a `data:` URL (how OpenAI-compatible APIs take inline files); else the URL."""
        content = self.content()
        if content is None:
            return self.url
        return f"data:{self.mime};base64,{base64.b64encode(content).decode('ascii')}"

    def placeholder(self) -> str:
        """The text an endpoint that cannot read this attachment gets instead: its caption, or
        a note that it was left out."""
        caption = f": {self.description}" if self.description else " (no caption)"
        return f"[{self.kind} not sent to this model{caption}]"


class Request(BaseModel):
    """What an endpoint is asked: messages plus generation settings."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    attachments: tuple[Attachment, ...] = ()
    max_tokens: int = Field(128, gt=0)
    temperature: float = Field(0.0, ge=0)
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    private: bool = False
    zones: tuple[str, ...] = Field((), description="The only privacy zones that may receive this request (empty: any the rules allow).")
    prompt_id: str | None = Field(None, description="Benchmark id, lets replay find the record.")
    turn: int = Field(0, ge=0, description="Turn or round index, written to the ledger.")
    seed: int | None = Field(None, description="Sampling seed (for k independent samples).")
    json_schema: dict[str, Any] | None = Field(
        None, description="Constrain the answer to this JSON schema where the endpoint can "
        "(llama.cpp grammar; OpenAI response_format); the caller still validates it.")

    @classmethod
    def of(cls, prompt: str, **kwargs: Any) -> Request:
        """A single-turn request with one user message."""
        return cls(messages=(Message(role="user", content=prompt),), **kwargs)

    @property
    def last_user_text(self) -> str:
        """The newest user message's text ('' if none): what routers, replay and relevance read."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""


class Completion(BaseModel):
    """An endpoint's answer with its usage and where its numbers came from."""

    model_config = ConfigDict(frozen=True)

    text: str
    endpoint: str
    model: str
    usage: Usage
    origin: Origin
    finish_reason: str | None = None
    token_logprobs: tuple[float, ...] | None = None
    top_logprobs: tuple[dict[str, float], ...] | None = None
    token_entropies: tuple[float, ...] | None = Field(
        None, description="Entropy (nats) of each step's next-token distribution, where known."
    )
    recorded_score: float | None = Field(None, description="Replay only: the recorded score.")
    notes: tuple[str, ...] = ()
    usage_capped: bool = Field(False, description="The upstream reported more tokens than the call could use; "
                                                   "billed at that bound instead.")

    @property
    def mean_logprob(self) -> float | None:
        """Mean token log-probability, or None when the endpoint returned none (a cascade signal)."""
        if not self.token_logprobs:
            return None
        return sum(self.token_logprobs) / len(self.token_logprobs)
