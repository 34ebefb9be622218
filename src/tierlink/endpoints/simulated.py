"""Simulated endpoint: answers computed from a profile, for planning and property tests.

It returns a fixed or echoed text; tokens are estimated (about 4 characters per token), time
and dollars follow the profile. Every number it reports is marked 'simulated'.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from tierlink.core.messages import Completion, Request
from tierlink.core.tokens import estimated_tokens_of
from tierlink.core.usage import Latency, Usage
from tierlink.endpoints.base import Endpoint, StreamChunk
from tierlink.endpoints.profile import EndpointProfile


class SimulatedEndpoint(Endpoint):
    """Profile-driven stand-in for a model (no model runs)."""

    def __init__(self, name: str, profile: EndpointProfile, node: str, answer: str = "simulated answer",
                 output_tokens: int | None = None) -> None:
        self.name = name
        self.profile = profile
        self.node = node
        self.answer = answer
        self.output_tokens = output_tokens

    def quote(self, request: Request) -> Usage:
        """The usage a call will report, known in advance: the simulation is deterministic."""
        return self._usage(request)

    async def complete(self, request: Request) -> Completion:
        """The fixed answer repeated to the modelled output length, every figure marked simulated."""
        usage = self._usage(request)
        text = " ".join([self.answer] * max(1, usage.output_tokens // max(1, len(self.answer) // 4)))
        return Completion(text=text[: 4 * usage.output_tokens], endpoint=self.name, model=self.profile.model,
                          usage=usage, origin="simulated", finish_reason="stop")

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The simulated answer in word-sized pieces, then its Completion."""
        completion = await self.complete(request)
        for piece in re.findall(r"\S+\s*|\s+", completion.text):
            yield StreamChunk(text=piece)
        yield StreamChunk(completion=completion)

    def _usage(self, request: Request) -> Usage:
        extra = sum(self.profile.image_tokens(a.width_px, a.height_px) or a.size_bytes // 4 if a.kind == "image"
                    else a.size_bytes // 4 for a in request.attachments)
        input_tokens = estimated_tokens_of(request.messages) + extra
        output_tokens = min(request.max_tokens, self.output_tokens or request.max_tokens)
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency=Latency(queue_s=self.profile.ttft_s,
                            prefill_s=input_tokens / self.profile.prefill_tokens_per_s,
                            decode_s=output_tokens / self.profile.decode_tokens_per_s),
            dollars=self.profile.dollars(input_tokens, output_tokens),
            joules=self.profile.power_w * output_tokens / self.profile.decode_tokens_per_s,
            origins=frozenset({"simulated"}),
        )
