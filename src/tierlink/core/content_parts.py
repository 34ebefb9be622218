"""OpenAI chat content parts (text, `image_url`, `input_audio`, `file`) as a turn's text and its
attachments: inline bytes decoded and measured (an image's real width and height, which
providers bill by), http(s) image URLs kept for the endpoint to fetch. Anything else, or bytes
that are not what they claim, is a ContentError naming the part."""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Attachment, Message, Request

MAX_PART_BYTES = 20 * 1024 * 1024  # OpenAI's own limit for one image
MAX_IMAGE_PIXELS = 50_000_000  # beyond this a "picture" is a decompression bomb
AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.DOTALL)


class ContentError(TierlinkError):
    """A content part tierlink cannot take; `part` is its index in the message's content."""

    def __init__(self, part: int, message: str) -> None:
        self.part = part
        super().__init__(message)


def split_parts(parts: Sequence[Mapping[str, Any]]) -> tuple[str, tuple[Attachment, ...]]:
    """The text parts joined by newlines, and every other part as an Attachment, in order."""
    texts, attachments = [], []
    for index, part in enumerate(parts):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            attachments.append(_image(index, part.get("image_url")))
        elif kind == "input_audio":
            attachments.append(_audio(index, part.get("input_audio")))
        elif kind == "file":
            attachments.append(_file(index, part.get("file")))
        else:
            raise ContentError(index, f"content part of type '{kind}' is not supported (text, image_url, input_audio, file)")
    return "\n".join(texts), tuple(attachments)


def request_from_parts(parts: Sequence[Mapping[str, Any]], **settings: Any) -> Request:
    """A user turn for `Session.ask` from OpenAI content parts: its text, and the rest attached."""
    text, attachments = split_parts(parts)
    return Request(messages=(Message(role="user", content=text),), attachments=attachments, **settings)


def _decoded(index: int, data: object) -> bytes:
    if not isinstance(data, str):
        raise ContentError(index, "the part's data must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ContentError(index, f"the part's data is not valid base64 ({exc})") from exc
    if len(raw) > MAX_PART_BYTES:
        raise ContentError(index, f"the part is {len(raw)} bytes; at most {MAX_PART_BYTES} are accepted")
    return raw


def _data_url(index: int, url: str) -> tuple[str, bytes]:
    match = _DATA_URL.match(url)
    if match is None:
        raise ContentError(index, "a data URL must look like data:<mime>;base64,<data>")
    return match["mime"], _decoded(index, match["data"])


def image_size(index: int, raw: bytes) -> tuple[int, int]:
    """Width and height read from the image's own header (Pillow); not an image is an error."""
    from PIL import Image, UnidentifiedImageError  # a heavy import, only when an image arrives

    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ContentError(index, f"the image cannot be read ({exc})") from exc
    if width * height > MAX_IMAGE_PIXELS:
        raise ContentError(index, f"the image is {width} x {height} pixels; at most {MAX_IMAGE_PIXELS} are accepted")
    return width, height


def _image(index: int, spec: object) -> Attachment:
    url = spec.get("url") if isinstance(spec, Mapping) else None
    if not isinstance(url, str):
        raise ContentError(index, "an image_url part needs image_url.url")
    if url.startswith(("http://", "https://")):
        return Attachment(kind="image", mime="image/*", size_bytes=0, url=url, description="")
    mime, raw = _data_url(index, url)
    if not mime.startswith("image/"):
        raise ContentError(index, f"an image_url data URL must hold an image, not {mime}")
    width, height = image_size(index, raw)
    return Attachment(kind="image", mime=mime, size_bytes=len(raw), width_px=width, height_px=height, data=raw)


def _audio(index: int, spec: object) -> Attachment:
    if not isinstance(spec, Mapping) or spec.get("format") not in AUDIO_FORMATS:
        raise ContentError(index, f"an input_audio part needs input_audio.data and a format of {', '.join(AUDIO_FORMATS)}")
    raw = _decoded(index, spec.get("data"))
    return Attachment(kind="audio", mime=AUDIO_FORMATS[spec["format"]], size_bytes=len(raw), data=raw)


def _file(index: int, spec: object) -> Attachment:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("file_data"), str):
        raise ContentError(index, "a file part needs file.file_data (a data URL); uploaded file ids are not supported")
    mime, raw = _data_url(index, spec["file_data"])
    name = spec.get("filename")
    return Attachment(kind="document", mime=mime, size_bytes=len(raw), data=raw,
                      description=name if isinstance(name, str) else "")
