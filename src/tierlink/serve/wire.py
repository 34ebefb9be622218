"""The OpenAI chat-completions request as the gateway accepts it (pydantic), and its mapping
onto a tierlink Request.

Unknown OpenAI parameters are accepted and ignored (clients send many), but parameters the
gateway cannot honour (n > 1, tool messages, image parts) are refused with a 400 that says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.messages import Message
from tierlink.serve.refusals import BadRequest

DEFAULT_MAX_TOKENS = 256


class TextPart(BaseModel):
    """A content part; only text parts with text are accepted, any other gets a 400."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """One OpenAI chat message; unknown fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """OpenAI's stream_options: `include_usage` adds a final usage chunk."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """POST /v1/chat/completions."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="A routing model (tierlink-auto, ...) or an endpoint name.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    stop: str | list[str] | None = None
    n: int | None = Field(None, ge=1)
    seed: int | None = None
    user: str | None = Field(None, description="Used as the session id when no X-Tierlink-Session header is sent.")

    def tierlink_messages(self) -> list[Message]:
        """The conversation as tierlink Messages (developer -> system); 400 for what cannot be mapped."""
        if self.n not in (None, 1):
            raise BadRequest("n > 1 is not supported: tierlink answers each turn once", "n")
        messages = []
        for index, message in enumerate(self.messages):
            if message.role in ("tool", "function"):
                raise BadRequest(f"messages[{index}]: role '{message.role}' is not supported (no tool calling yet)",
                                  f"messages[{index}].role")
            role = "system" if message.role == "developer" else message.role
            messages.append(Message(role=role, content=_text(message.content, index)))  # type: ignore[arg-type]
        if messages[-1].role != "user":
            raise BadRequest("the last message must be the user's turn", "messages")
        return messages

    @property
    def output_cap(self) -> int:
        """The output token cap: max_completion_tokens, else max_tokens, else the gateway default."""
        return self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS

    @property
    def stop_words(self) -> tuple[str, ...]:
        """Stop sequences as a tuple, whether one string, a list or nothing was sent."""
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


def _text(content: str | list[TextPart] | None, index: int) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in content:
        if part.type != "text" or part.text is None:
            raise BadRequest(f"messages[{index}]: content part of type '{part.type}' is not supported (text only)",
                              f"messages[{index}].content")
        texts.append(part.text)
    return "\n".join(texts)
