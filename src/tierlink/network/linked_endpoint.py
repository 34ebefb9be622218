"""Put any endpoint behind a link: requests and responses pay the link's transfer time.

Live mode really waits and fails during an outage; simulated mode advances a virtual clock,
so both give the same totals. Network figures are modelled, so the completion's origins gain
'simulated' next to whatever the endpoint itself reported.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.ledger import Ledger, Transfer
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Latency, Origin, Usage
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint
from tierlink.network.clock import Clock
from tierlink.network.link import Direction, Link
from tierlink.network.wire_size import request_bytes, response_bytes


class LinkedEndpoint(WrappedEndpoint):
    """An endpoint reached from `link.a` over `link`; records each crossing (not its price) in `ledger`."""

    def __init__(
        self, inner: Endpoint, link: Link, clock: Clock, ledger: Ledger | None = None
    ) -> None:
        super().__init__(inner)
        self.link = link
        self.clock = clock
        self.ledger = ledger

    async def complete(self, request: Request) -> Completion:
        """Upload, call, download over the link; a failed call still records its upload."""
        upload = await self._upload(request)
        try:
            completion = await self.inner.complete(request)
        except TierlinkError:
            self._record(upload, request, tokens=0, origin="simulated")
            raise
        return await self._deliver(completion, request, upload)

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """Pieces pass as they come; the final one pays the download; a failure records the upload."""
        upload = await self._upload(request)
        try:
            async for chunk in self.inner.stream(request):
                if chunk.completion is None:
                    yield chunk
                else:
                    yield StreamChunk(completion=await self._deliver(chunk.completion, request, upload))
        except TierlinkError:
            self._record(upload, request, tokens=0, origin="simulated")
            raise

    def available(self) -> bool:
        """False during an outage at the clock's now, so sessions do not try the call."""
        return self.link.is_up(self.clock.now()) and self.inner.available()

    async def _upload(self, request: Request) -> _Crossing:
        return await self._cross(request_bytes(request, self.profile.model), "up")

    async def _cross(self, n_bytes: int, direction: Direction) -> _Crossing:
        """Wait the modelled transfer time; raise LinkDown if an outage hits the transfer."""
        start = self.clock.now()
        seconds = self.link.transfer_seconds(n_bytes, direction)
        outage = self.link.availability.first_outage_in(start, start + seconds)
        if outage is not None:
            await self.clock.sleep(max(0.0, outage.start_s - start))
            raise LinkDown(self.link.name, self.clock.now(), outage.end_s)
        await self.clock.sleep(seconds)
        return _Crossing(direction, start, n_bytes, seconds)

    async def _deliver(self, completion: Completion, request: Request, upload: _Crossing) -> Completion:
        if self.clock.simulated:  # compute time passes on the virtual clock too
            await self.clock.sleep(completion.usage.latency.total_s)
        download = await self._cross(response_bytes(completion), "down")
        origin = completion.origin
        self._record(upload, request, completion.usage.input_tokens, origin)
        self._record(download, request, completion.usage.output_tokens, origin)
        network = Usage(
            bytes_up=upload.n_bytes,
            bytes_down=download.n_bytes,
            latency=Latency(network_s=upload.seconds + download.seconds),
            origins=frozenset({"simulated"}),
        )
        return completion.model_copy(update={"usage": completion.usage + network})

    def _record(self, crossing: _Crossing, request: Request, tokens: int, origin: Origin) -> None:
        """One crossing (bytes, link seconds); what the call cost is the caller's one Charge."""
        if self.ledger is None:
            return
        sender, receiver = (
            (self.link.a, self.node) if crossing.direction == "up" else (self.node, self.link.a)
        )
        self.ledger.record(
            Transfer(
                time_s=crossing.start,
                round=request.turn,
                sender=sender,
                receiver=receiver,
                link=self.link.name,
                tokens=tokens,
                bytes=crossing.n_bytes,
                seconds=crossing.seconds,
                endpoint=self.name,
                origin=origin,
            )
        )


@dataclass(frozen=True, slots=True)
class _Crossing:
    """One completed one-way transfer over the link."""

    direction: Direction
    start: float
    n_bytes: int
    seconds: float
