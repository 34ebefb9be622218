"""An agent that reads a document of its own (an email, a web page, a tool's output) before every
prompt: the untrusted input a prompt injection arrives by. With a guard, the paragraphs that read as
injections are removed and the rest is datamarked (spotlighting) before the model sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tierlink.core.messages import Completion, Message, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint
from tierlink.trust.injection import InjectionDetector, datamark, paragraphs_flagged


class DocumentReader(WrappedEndpoint):
    """The agent's model, asked with its document first (cleaned and marked when guarded)."""

    def __init__(self, inner: Endpoint, document: str, source: str = "a document",
                 guard: InjectionDetector | None = None) -> None:
        super().__init__(inner)
        self.removed = 0  # paragraphs the guard took out
        if guard is not None:
            document, self.removed = paragraphs_flagged(guard, document)
            document = datamark(document, source)
        self.document = document
        self.source = source

    def _with_document(self, request: Request) -> Request:
        last = request.messages[-1]
        text = f"{self.source[0].upper()}{self.source[1:]}:\n{self.document}\n\n{last.content}"
        return request.model_copy(update={"messages": (*request.messages[:-1], Message(role=last.role, content=text))})

    async def complete(self, request: Request) -> Completion:
        """The inner model, asked with the document first."""
        return await self.inner.complete(self._with_document(request))

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The inner stream, asked with the document first."""
        async for chunk in self.inner.stream(self._with_document(request)):
            yield chunk
