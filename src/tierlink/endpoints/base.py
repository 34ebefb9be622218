"""The Endpoint protocol: anything that answers a Request, on any tier.

One abstract pair (`complete`, `stream`) in the style of RouteLLM's router interface; the
profile carries the planning figures, the Completion carries what really happened.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable

from pydantic import BaseModel, ConfigDict

from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Usage
from tierlink.endpoints.profile import EndpointProfile


class StreamChunk(BaseModel):
    """A piece of a streamed answer; the last chunk carries the full Completion."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    completion: Completion | None = None


class Endpoint(ABC):
    """An LLM reachable by tierlink: in-process, over HTTP, or replayed from records."""

    name: str
    profile: EndpointProfile
    node: str

    @abstractmethod
    async def complete(self, request: Request) -> Completion:
        """Answer the request in one piece."""

    @abstractmethod
    def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """Answer the request piece by piece; the final chunk holds the Completion."""

    def available(self) -> bool:
        """Can a call be tried now? False for a link in an outage or an open circuit breaker."""
        return True

    async def aclose(self) -> None:
        """Release resources (HTTP clients, model memory). Default: nothing to release."""
        return

    async def warm(self) -> None:
        """Load what the first call would otherwise wait for (model weights). Default: nothing."""
        return

    def quote(self, request: Request) -> Usage | None:
        """The exact usage this request will report, if the endpoint knows it in advance
        (replay does); None means only a worst-case bound can be computed."""
        return None


class WrappedEndpoint(Endpoint):
    """An endpoint in front of another (a link, a circuit breaker): it answers as `inner` does,
    under the same name, profile and node, and `unwrap()` reaches the endpoint underneath all."""

    def __init__(self, inner: Endpoint) -> None:
        self.inner = inner
        self.name, self.profile, self.node = inner.name, inner.profile, inner.node

    def unwrap(self) -> Endpoint:
        """The endpoint under every wrapper (the model itself)."""
        inner = self.inner
        return inner.unwrap() if isinstance(inner, WrappedEndpoint) else inner

    def available(self) -> bool:
        """Available exactly when the wrapped endpoint is; wrappers with state of their own add to it."""
        return self.inner.available()

    async def aclose(self) -> None:
        """Close the wrapped endpoint: a wrapper holds nothing of its own to release."""
        await self.inner.aclose()

    async def warm(self) -> None:
        """Warm the wrapped endpoint (the model underneath)."""
        await self.inner.warm()

    def quote(self, request: Request) -> Usage | None:
        """The wrapped endpoint's quote, passed through so replay stays exactly priced behind wrappers."""
        return self.inner.quote(request)


def unwrapped(endpoint: Endpoint) -> Endpoint:
    """`endpoint` without its wrappers (links, breakers)."""
    return endpoint.unwrap() if isinstance(endpoint, WrappedEndpoint) else endpoint


async def collect(chunks: AsyncIterator[StreamChunk], on_text: Callable[[str], None] | None = None) -> Completion:
    """Drain a stream and return its final Completion (raises if the stream ended early);
    `on_text` receives each piece of text as it arrives."""
    final: Completion | None = None
    async for chunk in chunks:
        if chunk.text and on_text is not None:
            on_text(chunk.text)
        if chunk.completion is not None:
            final = chunk.completion
    if final is None:
        raise TierlinkError("stream ended without a final completion")
    return final
