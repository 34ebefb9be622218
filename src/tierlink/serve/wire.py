"""The OpenAI chat-completions request as the gateway accepts it (pydantic), and its mapping
onto a tierlink Request.

Unknown OpenAI parameters are accepted and ignored (clients send many), but parameters the
gateway cannot honour (n > 1, tools, logprobs, response formats, tool messages) are
refused with a 400 that names them, rather than answered as if they had been honoured. Types are
strict where a lax reading would surprise (`"stream": "yes"` is a 400, not a stream), text must
be encodable (a lone surrogate is a 400, not a crash), and a session id is bounded.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from tierlink.core.content_parts import ContentError, split_parts
from tierlink.core.messages import Attachment, Message
from tierlink.serve.refusals import BadRequest

DEFAULT_MAX_TOKENS = 256
MAX_SESSION_ID_CHARS = 256  # a session id is a key in the store, not a payload
# OpenAI parameters whose effect the gateway cannot give; a value other than the harmless one is a 400
UNSUPPORTED: dict[str, tuple[object, ...]] = {
    "tools": (None, []), "functions": (None, []), "tool_choice": (None, "none"), "function_call": (None, "none"),
    "logprobs": (None, False), "top_logprobs": (None, 0), "response_format": (None, {"type": "text"}),
    "audio": (None,), "modalities": (None, ["text"]),
}


class TextPart(BaseModel):
    """A content part: text, image_url, input_audio or file (core.content_parts reads them)."""

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

    include_usage: StrictBool = False


class ChatRequest(BaseModel):
    """POST /v1/chat/completions."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="A routing model (tierlink-auto, ...) or an endpoint name.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    stop: str | list[str] | None = None
    n: int | None = Field(None, ge=1)
    seed: int | None = None
    user: str | None = Field(None, max_length=MAX_SESSION_ID_CHARS,
                             description="Used as the session id when no X-Tierlink-Session header is sent.")

    @model_validator(mode="after")
    def _honourable(self) -> ChatRequest:
        """Refuse what would be silently ignored, and text no encoder can write."""
        for name, harmless in UNSUPPORTED.items():
            value = (self.model_extra or {}).get(name)
            if value not in harmless:
                raise BadRequest(f"'{name}' is not supported by the tierlink gateway (it would be ignored); "
                                 "remove it", name, "unsupported_parameter")
        where = _unencodable(self.model_dump(include={"model", "messages", "stop", "user"}), "")
        if where is not None:
            raise BadRequest(f"{where}: the text holds a lone surrogate (not valid Unicode); send UTF-8 text",
                             where, "invalid_value")
        return self

    def tierlink_turn(self) -> tuple[list[Message], tuple[Attachment, ...]]:
        """The conversation as tierlink Messages (developer -> system) and the last user turn's
        attachments (its image, audio and file parts); 400 for what cannot be mapped. Parts of
        earlier turns stay in the history as a note: the gateway is stateless, they were answered."""
        if self.n not in (None, 1):
            raise BadRequest("n > 1 is not supported: tierlink answers each turn once", "n")
        messages, attachments = [], ()
        last = len(self.messages) - 1
        for index, message in enumerate(self.messages):
            if message.role in ("tool", "function"):
                raise BadRequest(f"messages[{index}]: role '{message.role}' is not supported (no tool calling yet)",
                                  f"messages[{index}].role")
            role = "system" if message.role == "developer" else message.role
            text, parts = _content(message.content, index)
            if index == last:
                attachments = parts
            elif parts:
                text = "\n".join(filter(None, [text, *(f"[{a.kind} from an earlier turn]" for a in parts)]))
            messages.append(Message(role=role, content=text))  # type: ignore[arg-type]
        if messages[-1].role != "user":
            raise BadRequest("the last message must be the user's turn", "messages")
        return messages, attachments

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


def _content(content: str | list[TextPart] | None, index: int) -> tuple[str, tuple[Attachment, ...]]:
    """A message's text, and its non-text parts as attachments (a bad part is a 400 naming it)."""
    if content is None or isinstance(content, str):
        return content or "", ()
    try:
        return split_parts([part.model_dump() for part in content])
    except ContentError as exc:
        raise BadRequest(f"messages[{index}].content[{exc.part}]: {exc}", f"messages[{index}].content[{exc.part}]") from exc


def _unencodable(value: Any, path: str) -> str | None:
    """The path of the first string in `value` that UTF-8 cannot encode (a lone surrogate)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "body"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _unencodable(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None
