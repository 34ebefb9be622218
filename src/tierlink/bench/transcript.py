"""An endpoint that keeps what it was sent and what it answered: how a benchmark sees which data
reached a model (a leak) and which outputs carry a planted canary (an infection)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint


class Transcript(WrappedEndpoint):
    """`inner`, with every request's text and every answer kept, by turn (or round)."""

    def __init__(self, inner: Endpoint) -> None:
        super().__init__(inner)
        self.received: list[tuple[int, str]] = []
        self.outputs: list[tuple[int, str]] = []

    def _keep(self, request: Request) -> None:
        text = "\n".join(m.content for m in request.messages) + "".join(a.description for a in request.attachments)
        self.received.append((request.turn, text))

    async def complete(self, request: Request) -> Completion:
        """The inner model's answer; the request and the answer kept."""
        self._keep(request)
        completion = await self.inner.complete(request)
        self.outputs.append((request.turn, completion.text))
        return completion

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The inner stream; the request and the whole answer kept."""
        self._keep(request)
        pieces = []
        async for chunk in self.inner.stream(request):
            pieces.append(chunk.text or "")
            yield chunk
        self.outputs.append((request.turn, "".join(pieces)))
