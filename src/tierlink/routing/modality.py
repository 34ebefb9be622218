"""Modality selection: which attachments are worth uploading with this turn.

Greedy over attachments by relevance: each adds relevance x redundancy^(same-kind already
chosen) (diminishing returns for, say, a third camera view) minus a price for its upload time
on the link and its dollar cost at the endpoint; it is sent while that net value stays above
`min_value`. Units: `seconds_weight` value per upload second, `dollars_weight` value per USD.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.messages import Attachment
from tierlink.endpoints.profile import EndpointProfile
from tierlink.network.link import Link
from tierlink.routing.relevance import RelevanceScorer


class Selection(BaseModel):
    """Chosen attachment indices, with each candidate's relevance and net value."""

    model_config = ConfigDict(frozen=True)

    chosen: tuple[int, ...]
    relevance: dict[int, float]
    value: dict[int, float]


class AttachmentSelector(BaseModel):
    """Parameters of the greedy selection."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    redundancy: float = Field(0.5, ge=0, le=1)
    seconds_weight: float = Field(0.05, ge=0)
    dollars_weight: float = Field(20.0, ge=0)
    min_value: float = Field(0.1)

    def select(
        self,
        prompt: str,
        attachments: tuple[Attachment, ...],
        allowed: tuple[int, ...],
        profile: EndpointProfile,
        link: Link | None,
        scorer: RelevanceScorer,
    ) -> Selection:
        """Greedy pick of the allowed attachments by relevance (an uncaptioned one: 1), less their
        upload time and price."""
        if not allowed:
            return Selection(chosen=(), relevance={}, value={})
        described = [i for i in allowed if attachments[i].description]
        scores = scorer.scores(prompt, [attachments[i].description for i in described]) if described else []
        # an attachment with no caption cannot be judged: the user attached it to this turn, so it counts in full
        relevance = {i: 1.0 for i in allowed} | dict(zip(described, scores, strict=True))
        chosen: list[int] = []
        values: dict[int, float] = {}
        kinds: Counter[str] = Counter()
        for index in sorted(allowed, key=lambda i: -relevance[i]):
            item = attachments[index]
            upload = 0.0
            if link is not None:
                base64_bytes = 4 * ((item.size_bytes + 2) // 3)
                upload = link.transfer_seconds(base64_bytes, "up") - link.rtt_ms / 2000
            dollars = profile.attachment_tokens(item) * profile.price_in_per_mtok / 1e6
            gain = relevance[index] * self.redundancy ** kinds[item.kind]
            value = gain - self.seconds_weight * upload - self.dollars_weight * dollars
            values[index] = value
            if value >= self.min_value:
                chosen.append(index)
                kinds[item.kind] += 1
        return Selection(chosen=tuple(sorted(chosen)), relevance=relevance, value=values)
