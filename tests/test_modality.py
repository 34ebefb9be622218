"""Modality selection: relevance, diminishing returns, link and price costs; the real embedder."""

from __future__ import annotations

import pytest

from tierlink.core import Attachment
from tierlink.endpoints.profile import EndpointProfile
from tierlink.network.link import Link
from tierlink.routing.modality import AttachmentSelector
from tierlink.routing.relevance import EmbeddingRelevance, LexicalRelevance

VISION = EndpointProfile(name="v", tier="cloud", hardware="t", model="m", context_window=128000,
                         modalities=("text", "image"), price_in_per_mtok=2.5, price_out_per_mtok=10,
                         tokens_per_image=255, decode_tokens_per_s=80, prefill_tokens_per_s=8000,
                         ttft_s=0.4, source="test")
FAST = Link(name="wifi", a="d", b="c", up_mbps=100, down_mbps=300, rtt_ms=10)
SLOW = Link(name="sat", a="d", b="c", up_mbps=0.5, down_mbps=2, rtt_ms=600)


def camera(view: str, size: int = 150_000) -> Attachment:
    return Attachment(kind="image", mime="image/jpeg", size_bytes=size, description=f"{view} camera view")


VIEWS = (camera("front"), camera("left"), camera("rear"),
         Attachment(kind="sensor", mime="text/csv", size_bytes=4_000, description="battery voltage log"))


def test_relevant_views_win_and_redundancy_diminishes() -> None:
    selector = AttachmentSelector()
    prompt = "is there an obstacle on the front camera view"
    selection = selector.select(prompt, VIEWS, (0, 1, 2, 3), VISION, FAST, LexicalRelevance())
    assert 0 in selection.chosen and 3 not in selection.chosen
    assert selection.relevance[0] > selection.relevance[3]
    # every view matches "camera view": the second and third add less and less
    everything = selector.select("camera view", VIEWS, (0, 1, 2), VISION, FAST, LexicalRelevance())
    assert everything.value[0] > everything.value[1] > everything.value[2]


def test_slow_links_and_prices_drop_big_uploads() -> None:
    selector = AttachmentSelector()
    big = (camera("front", size=3_000_000),)
    fast = selector.select("front camera view", big, (0,), VISION, FAST, LexicalRelevance())
    slow = selector.select("front camera view", big, (0,), VISION, SLOW, LexicalRelevance())
    assert fast.chosen == (0,) and slow.chosen == ()
    pricey = VISION.model_copy(update={"price_in_per_mtok": 500.0})
    assert selector.select("front camera view", VIEWS[:1], (0,), pricey, FAST, LexicalRelevance()).chosen == ()


def test_only_allowed_indices_are_considered() -> None:
    selection = AttachmentSelector().select("front camera view", VIEWS, (1, 2), VISION, FAST, LexicalRelevance())
    assert set(selection.relevance) == {1, 2}


def test_embedding_relevance_uses_the_bundled_minilm() -> None:
    scorer = EmbeddingRelevance()
    scores = scorer.scores("what is directly ahead of the robot?", ["front camera view", "battery voltage log"])
    assert scores[0] > scores[1] + 0.1
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scorer.scores("x", []) == []
    assert scorer.scores("what is directly ahead of the robot?", ["front camera view"])[0] == pytest.approx(scores[0], abs=1e-6)
