"""The profile registries: the required entries exist, and every entry cites a source."""

from __future__ import annotations

import pytest

from tierlink.core.errors import ConfigError
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.registry import link_profiles

REQUIRED_ENDPOINTS = [
    "rpi5/gemma3-270m-q4", "phone/gemma3-1b-q4", "laptop-cpu/gemma3-270m-q4",
    "jetson-orin-nano/llama3.2-1b-q4", "jetson-agx-orin/llama3.1-8b-q4",
    "gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-haiku", "gemini-2.0-flash",
]


def test_required_endpoint_profiles_exist_with_sources() -> None:
    registry = endpoint_profiles()
    for name in REQUIRED_ENDPOINTS:
        profile = registry[name]
        assert len(profile.source) > 20, name
    tiers = {p.tier for p in registry.values()}
    assert tiers == {"device", "edge", "cloud"}


def test_profiles_are_consistent() -> None:
    for profile in endpoint_profiles().values():
        assert profile.prefill_tokens_per_s >= profile.decode_tokens_per_s, profile.name
        if profile.tier == "cloud":
            assert profile.price_out_per_mtok > 0, profile.name
            assert profile.privacy_zone == "cloud"
        else:
            assert profile.price_out_per_mtok == 0 and profile.power_w > 0, profile.name


def test_cached_price_is_used_for_cached_tokens() -> None:
    gpt4o = endpoint_profiles()["gpt-4o"]
    assert gpt4o.supports_prompt_cache
    full = gpt4o.dollars(1000, 100)
    cached = gpt4o.dollars(1000, 100, cached_tokens=800)
    assert cached < full
    assert cached == pytest.approx((200 * gpt4o.price_in_per_mtok + 800 * gpt4o.price_cached_in_per_mtok + 100 * gpt4o.price_out_per_mtok) / 1e6)  # type: ignore[operator]


def test_link_profiles() -> None:
    links = link_profiles()
    assert {"wired", "wifi", "5g", "4g", "satellite", "offline"} <= set(links)
    assert not links["offline"].available
    assert links["satellite"].rtt_ms > links["wired"].rtt_ms
    assert all(len(p.source) > 20 for p in links.values())


def test_unknown_profile_error_lists_known_names() -> None:
    with pytest.raises(ConfigError, match="gpt-4o-mini"):
        endpoint_profiles().require("gpt-5-ultra", "endpoints.x.profile")


def test_images_are_billed_by_openais_tile_rule() -> None:
    """OpenAI's worked examples (vision guide): 1024x1024 -> 765 tokens, 2048x4096 -> 1105."""
    from tierlink.endpoints.image_tokens import tiled_image_tokens

    assert tiled_image_tokens(1024, 1024, 85, 170) == 765
    assert tiled_image_tokens(2048, 4096, 85, 170) == 1105
    assert tiled_image_tokens(1280, 720, 85, 170) == 1105  # a 720p camera frame: 3 x 2 tiles
    assert tiled_image_tokens(512, 512, 85, 170) == 255
    gpt4o, mini = endpoint_profiles()["gpt-4o"], endpoint_profiles()["gpt-4o-mini"]
    assert gpt4o.image_tokens(1280, 720) == 1105 and gpt4o.image_tokens(None, None) == gpt4o.tokens_per_image
    assert mini.image_tokens(1280, 720) == 2833 + 6 * 5667


async def test_replay_charges_the_views_it_is_sent() -> None:
    from tierlink.bench.conversations import CASE_CLOUD, build_case_study, turn_request
    from tierlink.endpoints.replay import ReplayEndpoint

    case = build_case_study(2, seed=0)
    cloud = ReplayEndpoint("cloud", case.table, "cloud", endpoint_profiles()[CASE_CLOUD], "cloud", price_from_profile=True)
    request = turn_request(case.conversations[0].turns[0])
    bare = await cloud.complete(request.model_copy(update={"attachments": ()}))
    viewed = await cloud.complete(request)  # three 1280x720 views
    assert viewed.usage.input_tokens - bare.usage.input_tokens == 3 * 1105
    assert viewed.usage.dollars - bare.usage.dollars == pytest.approx(3 * 1105 * 2.5 / 1e6)
    assert "simulated" in viewed.usage.origins
