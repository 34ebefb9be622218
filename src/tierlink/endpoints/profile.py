"""What an endpoint costs and how fast it is: the figures every policy plans with.

A profile is a *model on a piece of hardware* (Gemma 3 270M on a Raspberry Pi 5, GPT-4o in
OpenAI's cloud). Figures are sourced; the registry file cites each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.messages import Attachment
from tierlink.endpoints.image_tokens import tiled_image_tokens

Tier = Literal["device", "edge", "cloud"]
LARGEST_TILED_IMAGE = (768, 2048)  # after the provider's scaling, the most 512 px tiles an image can cover
Modality = Literal["text", "image", "audio", "document", "sensor"]


class EndpointProfile(BaseModel):
    """Planning figures for one model on one kind of hardware (all in base units)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Registry key, e.g. 'rpi5/gemma3-270m-q4' or 'gpt-4o'.")
    tier: Tier
    hardware: str = Field(description="Device, board or provider the figures were measured on.")
    model: str = Field(description="Model the figures belong to.")
    modalities: tuple[Modality, ...] = ("text",)
    context_window: int = Field(gt=0, description="Tokens.")
    price_in_per_mtok: float = Field(0.0, ge=0, description="USD per million input tokens.")
    price_out_per_mtok: float = Field(0.0, ge=0, description="USD per million output tokens.")
    price_cached_in_per_mtok: float | None = Field(
        None, ge=0, description="USD per million cached input tokens; None = no prompt caching."
    )
    tokens_per_image: int = Field(0, ge=0, description="Input tokens billed per image whose size is not known.")
    image_base_tokens: int = Field(0, ge=0, description="Tiled image pricing: tokens every image costs.")
    image_tile_tokens: int | None = Field(
        None, ge=0, description="Tiled image pricing: tokens per 512 px tile (None: tokens_per_image for every image).")
    decode_tokens_per_s: float = Field(gt=0)
    prefill_tokens_per_s: float = Field(gt=0)
    ttft_s: float = Field(ge=0, description="Time to first token for a short prompt.")
    power_w: float = Field(0.0, ge=0, description="Power draw while generating (device/edge).")
    memory_gb: float | None = Field(None, ge=0, description="Memory of the hardware.")
    privacy_zone: str = Field("cloud", description="Where data sent to it ends up.")
    source: str = Field(description="Citation(s) for the figures above.")

    @property
    def supports_prompt_cache(self) -> bool:
        """True when the provider bills cached input at a price of its own (one is given)."""
        return self.price_cached_in_per_mtok is not None

    def dollars(self, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
        """Price of one call; cached tokens are billed at the cached price when there is one."""
        cached = min(cached_tokens, input_tokens) if self.supports_prompt_cache else 0
        cached_price = self.price_cached_in_per_mtok or 0.0
        return (
            (input_tokens - cached) * self.price_in_per_mtok
            + cached * cached_price
            + output_tokens * self.price_out_per_mtok
        ) / 1e6

    def image_tokens(self, width_px: int | None, height_px: int | None) -> int:
        """Input tokens one image costs here: by its tiles where the provider prices so and the
        size is known, else the flat `tokens_per_image`."""
        if self.image_tile_tokens is None or not width_px or not height_px:
            return self.tokens_per_image
        return tiled_image_tokens(width_px, height_px, self.image_base_tokens, self.image_tile_tokens)

    def attachment_tokens(self, attachment: Attachment) -> int:
        """Upper bound on the prompt tokens one attachment adds here: an image by the provider's
        image price, anything else at most one token per byte."""
        if attachment.kind == "image" and (self.tokens_per_image or self.image_tile_tokens is not None):
            if attachment.width_px is None and self.image_tile_tokens is not None:  # a URL: size unknown, bound it
                return self.image_tokens(*LARGEST_TILED_IMAGE)
            return self.image_tokens(attachment.width_px, attachment.height_px)
        return attachment.size_bytes

    def attachments_tokens(self, attachments: Iterable[Attachment]) -> int:
        """Upper bound on the prompt tokens all of `attachments` add here."""
        return sum(self.attachment_tokens(a) for a in attachments)

    def predicted_seconds(self, input_tokens: int, output_tokens: int) -> float:
        """Compute time (no network) predicted from the profile: TTFT + prefill + decode."""
        return (
            self.ttft_s
            + input_tokens / self.prefill_tokens_per_s
            + output_tokens / self.decode_tokens_per_s
        )
