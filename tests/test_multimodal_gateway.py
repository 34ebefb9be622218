"""Images and files the client sends reach the tier that can read them: through the gateway (a
real process, the official client) to a real OpenAI-compatible server that decodes what it got;
a text-only tier gets the caption instead, the reason says so, and the image is priced by the
provider's tile formula from its real size."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import openai
import pytest
from PIL import Image

from tests.servers.gateway import gateway, upstream, write_config
from tests.servers.process import free_port
from tierlink.core.content_parts import ContentError, split_parts
from tierlink.endpoints.registry import endpoint_profiles


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _bomb() -> str:
    """A PNG whose header claims 100,000 x 100,000 pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_parts_become_attachments_with_their_real_size() -> None:
    text, attachments = split_parts([{"type": "text", "text": "what is this?"},
                                     {"type": "image_url", "image_url": {"url": _png(1280, 720)}},
                                     {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}},
                                     {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"RIFF....").decode(),
                                                                             "format": "wav"}},
                                     {"type": "file", "file": {"filename": "notes.txt",
                                                               "file_data": "data:text/plain;base64," + base64.b64encode(b"hello").decode()}}])
    image, remote, audio, document = attachments
    assert text == "what is this?" and (image.width_px, image.height_px, image.mime) == (1280, 720, "image/png")
    assert remote.url == "https://example.org/cat.jpg" and remote.content() is None
    assert audio.kind == "audio" and audio.mime == "audio/wav" and document.description == "notes.txt"
    assert endpoint_profiles()["gpt-4o"].attachment_tokens(image) == 85 + 170 * 6  # 3 x 2 tiles of 512 px
    for bad, why in [({"type": "image_url", "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}}, "cannot be read"),
                     ({"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}, "data URL"),
                     ({"type": "input_audio", "input_audio": {"data": "%%%", "format": "wav"}}, "not valid base64"),
                     ({"type": "file", "file": {"file_id": "file-123"}}, "file ids are not supported"),
                     ({"type": "image_url", "image_url": {"url": _bomb()}}, "decompression bomb")]:
        with pytest.raises(ContentError, match=why):
            split_parts([bad])


def test_an_image_reaches_the_vision_tier_and_a_text_only_tier_gets_its_caption(tmp_path: Path, fault_server: str) -> None:
    port_up = int(fault_server.rsplit(":", 1)[1])
    config = write_config(tmp_path / "gw.yaml", upstream(port_up, "vision", "gpt-4o", "cloud"),
                          upstream(port_up, "vision", "edge-l4/llama3.1-8b", "edge"),
                          upstream(port_up, "ok", "laptop-cpu/gemma3-270m-q4", "robot"), fallback=["device"])
    port = free_port()
    image = _png(1280, 720)
    content = [{"type": "text", "text": "What colour is this?"}, {"type": "image_url", "image_url": {"url": image}}]
    with gateway(config, port):
        api = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=60)
        seen = api.chat.completions.create(model="cloud", messages=[{"role": "user", "content": content}], max_tokens=16)
        assert seen.choices[0].message.content == "text: What colour is this?; image PNG 1280x720"
        extra = seen.model_extra["tierlink"]  # type: ignore[index]
        assert extra["usage"]["input_tokens"] >= 85 + 170 * 6 and "captions only" not in extra["reason"]  # the image's tiles
        text_only = api.chat.completions.create(model="edge", messages=[{"role": "user", "content": content}], max_tokens=16)
        assert text_only.choices[0].message.content.startswith("text only: What colour is this?\n[image not sent")
        assert "1 of 1 attachment(s) sent to edge as captions only" in text_only.model_extra["tierlink"]["reason"]  # type: ignore[index]
        with pytest.raises(openai.BadRequestError, match=r"messages\[0\].content\[1\]: the image cannot be read"):
            api.chat.completions.create(model="cloud", max_tokens=16, messages=[{"role": "user", "content": [
                {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])


async def test_a_session_takes_content_parts_and_sends_the_image_to_a_vision_endpoint(fault_server: str) -> None:
    from tests.servers.endpoints import device_and_cloud
    from tierlink.core import Budget
    from tierlink.core.content_parts import request_from_parts
    from tierlink.routing.policy import make_policy
    from tierlink.routing.relevance import LexicalRelevance
    from tierlink.routing.session import Session

    endpoints = device_and_cloud(fault_server, "vision")
    device, cloud = endpoints["device"], endpoints["cloud"]
    session = Session(endpoints, "device", make_policy("always-cloud"), Budget(),
                      scorer=LexicalRelevance())
    request = request_from_parts([{"type": "text", "text": "Describe it."},
                                  {"type": "image_url", "image_url": {"url": _png(64, 48)}}], max_tokens=16)
    result = await session.ask(request)
    await cloud.aclose()
    await device.aclose()
    assert result.endpoint == "cloud" and result.answer == "text: Describe it.; image PNG 64x48"
    assert result.attachments_sent == (0,)
