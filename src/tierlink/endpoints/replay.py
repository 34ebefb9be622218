"""Replay endpoint: answers benchmark prompts with what a real model recorded.

Tokens, dollars and the score come from the record ('replay'). Where the record lacks a
figure (latency, usually), it is predicted from the profile and marked 'simulated'.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from tierlink.core.errors import UnknownPrompt
from tierlink.core.messages import Attachment, Completion, Request
from tierlink.core.tokens import CHARS_PER_TOKEN, estimate_tokens, estimated_tokens_of
from tierlink.core.usage import Latency, Origin, Usage
from tierlink.endpoints.base import Endpoint, StreamChunk
from tierlink.endpoints.outcome_table import Outcome, OutcomeTable
from tierlink.endpoints.profile import EndpointProfile


class ReplayEndpoint(Endpoint):
    """Serves `model`'s recorded responses from an outcome table."""

    def __init__(
        self,
        name: str,
        table: OutcomeTable,
        model: str,
        profile: EndpointProfile,
        node: str,
        price_from_profile: bool = False,
    ) -> None:
        if model not in table.models:
            raise UnknownPrompt(
                f"replay endpoint '{name}': model '{model}' has no records; "
                f"the table holds {', '.join(table.models)}"
            )
        self.name = name
        self.table = table
        self.model = model
        self.profile = profile
        self.node = node
        # True: dollars = recorded tokens x this profile's prices (e.g. replaying a recorded model
        # as if it ran on a free device, or at another provider's price), marked simulated.
        self.price_from_profile = price_from_profile

    def lookup(self, request: Request) -> Outcome:
        """The record for this request, by prompt_id or else by the last user message."""
        prompt_id = request.prompt_id or self.table.prompt_id_for(request.last_user_text)
        outcome = self.table.get(self.model, prompt_id) if prompt_id else None
        if outcome is None:
            shown = request.prompt_id or request.last_user_text[:60]
            raise UnknownPrompt(
                f"replay endpoint '{self.name}' has no recorded answer of '{self.model}' for "
                f"prompt {shown!r}; replay serves only benchmark prompts from its outcome table"
            )
        return outcome

    def quote(self, request: Request) -> Usage:
        """The usage the record implies (known before the call: replay is deterministic)."""
        return self._usage(self.lookup(request), request)

    async def complete(self, request: Request) -> Completion:
        """The recorded answer with its tokens and score; an unrecorded prompt raises UnknownPrompt."""
        outcome = self.lookup(request)
        return Completion(
            text=outcome.response or "",
            endpoint=self.name,
            model=self.model,
            usage=self._usage(outcome, request),
            origin="replay",
            finish_reason="stop",
            recorded_score=outcome.score,
        )

    def _usage(self, outcome: Outcome, request: Request) -> Usage:
        """Recorded tokens and dollars; what the record lacks is predicted and marked simulated.

        Conversation history sent along with the benchmark prompt was not part of the record:
        its tokens are estimated and added (and the dollars then follow the profile's prices).
        """
        origins: set[Origin] = {"replay"}
        input_tokens = outcome.input_tokens
        output_tokens = outcome.output_tokens
        if input_tokens is None or output_tokens is None:
            origins.add("simulated")  # estimated at ~4 characters per token
            input_tokens = input_tokens if input_tokens is not None else estimate_tokens(outcome.prompt)
            output_tokens = (
                output_tokens if output_tokens is not None else len(outcome.response or "") // 4
            )
        history = estimated_tokens_of(request.messages[:-1]) if len(request.messages) > 1 else 0
        attached = sum(self._attachment_tokens(a) for a in request.attachments)  # not in the record either
        input_tokens += history + attached
        dollars = outcome.cost_usd
        if dollars is None or history or attached or self.price_from_profile:
            origins.add("simulated")
            dollars = self.profile.dollars(input_tokens, output_tokens)
        if outcome.latency_s is not None:
            latency = Latency(decode_s=outcome.latency_s)
        else:
            origins.add("simulated")
            latency = Latency(
                queue_s=self.profile.ttft_s,
                prefill_s=input_tokens / self.profile.prefill_tokens_per_s,
                decode_s=output_tokens / self.profile.decode_tokens_per_s,
            )
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency=latency,
            dollars=dollars,
            origins=frozenset(origins),
        )

    def _attachment_tokens(self, attachment: Attachment) -> int:
        """What an uploaded attachment adds to the prompt (simulated): an image at the profile's
        image price (by its size where the provider bills tiles), anything else its text."""
        if attachment.kind == "image":
            return self.profile.image_tokens(attachment.width_px, attachment.height_px)
        return attachment.size_bytes // CHARS_PER_TOKEN

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The recorded answer in word-sized pieces, then its Completion (no real timing)."""
        completion = await self.complete(request)
        for piece in re.findall(r"\S+\s*|\s+", completion.text):
            yield StreamChunk(text=piece)
        yield StreamChunk(completion=completion)
