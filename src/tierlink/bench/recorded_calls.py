"""A live endpoint called once per distinct request, its answers replayed after that.

The case study runs each policy twice (under the budget, then without one, to show where it
binds). A live LLM router's second pass replays the first pass's completions, their measured
usage included, so both passes charge the same calls and the CPU pays for each only once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint


class RecordedCalls(WrappedEndpoint):
    """`inner` for a request it has not seen (the turn number aside), its recorded answer after."""

    def __init__(self, inner: Endpoint) -> None:
        super().__init__(inner)
        self._answers: dict[str, Completion] = {}

    async def complete(self, request: Request) -> Completion:
        """The live answer the first time, the same Completion (measured usage too) after."""
        key = request.model_dump_json(exclude={"turn"})
        if key not in self._answers:
            self._answers[key] = await self.inner.complete(request)
        return self._answers[key]

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The completion in one piece (a router reads it whole)."""
        completion = await self.complete(request)
        yield StreamChunk(text=completion.text)
        yield StreamChunk(completion=completion)

    @property
    def live_calls(self) -> int:
        """Distinct requests answered live so far."""
        return len(self._answers)


def catalogue_router(model: str) -> RecordedCalls:
    """A catalogue model (`tierlink models`) in process as a router, each distinct call made once."""
    from tierlink.config.build import catalogue_endpoint

    return RecordedCalls(catalogue_endpoint(model, "router model", node="robot"))
