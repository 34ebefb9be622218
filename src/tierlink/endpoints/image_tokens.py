"""What an image costs in input tokens at a provider that bills by 512-pixel tiles.

OpenAI's published rule for `detail: high` (vision guide, "Calculating costs"): the image is
scaled to fit within 2048 x 2048, then scaled down so that its shortest side is at most 768
pixels; the tokens are a base plus a fixed amount per 512 x 512 tile the result covers (GPT-4o:
85 + 170 per tile; GPT-4o mini: 2,833 + 5,667). A 1280 x 720 frame is 3 x 2 tiles: 1,105 tokens
at GPT-4o.
"""

from __future__ import annotations

import math

TILE_PX = 512
FIT_PX = 2048
SHORT_SIDE_PX = 768


def tiles(width: int, height: int) -> int:
    """512-pixel tiles an image covers after the provider's two downscaling steps."""
    if width <= 0 or height <= 0:
        return 0
    scale = min(1.0, FIT_PX / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, SHORT_SIDE_PX / min(width, height))
    width, height = width * scale, height * scale
    return math.ceil(width / TILE_PX) * math.ceil(height / TILE_PX)


def tiled_image_tokens(width: int, height: int, base: int, per_tile: int) -> int:
    """Input tokens billed for one image of `width` x `height` pixels."""
    return base + per_tile * tiles(width, height)
