"""A real OpenAI-compatible HTTP server that misbehaves on purpose, for fault tests.

Routes are prefixed by the fault: /{fault}/v1/chat/completions with fault in
ok | ratelimit (429 + Retry-After the first N calls) | error500 | stall | halfstream |
slowMS (answers after MS milliseconds: a latency-bound API) | jsonrepair (invalid JSON when asked
for JSON, valid when asked to repair) | jsonbroken (never valid JSON) | badline (a stream line, or
a body, that is not JSON) | hugeusage (reports 1M/1M tokens) | negusage (negative tokens) |
textusage (tokens as a string) | surrogate (a lone surrogate in the answer) | longtext (20,000
characters, whatever max_tokens says) | bigbody (a 5 MB answer) | emptybreak (a stream that opens,
sends its role chunk and drops) | echo (records each body, at GET /recorded, and answers with the
last user turn's text) | vision (answers with what the
last user turn carried: each part's type, and for images the format and size it decoded).
GET /stats returns how many calls each fault route received. Run:
    python tests/servers/fault_server.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

RATE_LIMITED_CALLS = 2
RETRY_AFTER_S = "1"


def create_app() -> FastAPI:
    app = FastAPI()
    calls: Counter[str] = Counter()

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return dict(calls)

    recorded: list[dict] = []

    @app.post("/reset")
    async def reset() -> dict[str, bool]:
        calls.clear()
        recorded.clear()
        return {"ok": True}

    @app.get("/recorded")
    async def bodies() -> list[dict]:
        return recorded

    @app.get("/{fault}/v1/models")
    async def models(fault: str) -> dict:
        return {"object": "list", "data": [{"id": "fault-model", "object": "model", "owned_by": "test"}]}

    @app.post("/{fault}/v1/chat/completions", response_model=None)
    async def chat(fault: str, request: Request) -> Response:
        body = await request.json()
        calls[fault] += 1
        if fault == "ratelimit" and calls[fault] <= RATE_LIMITED_CALLS:
            return _error(429, "rate limit reached for requests", {"Retry-After": RETRY_AFTER_S})
        if fault == "ratelimit_long":
            return _error(429, "quota exhausted, come back in an hour", {"Retry-After": "3600"})
        if fault == "error500":
            return _error(500, "upstream exploded: out of GPU memory")
        if fault == "stall":
            await asyncio.sleep(60)
        if fault.startswith("slow"):
            await asyncio.sleep(int(fault[4:]) / 1000)
        prompt = str(body["messages"][-1]["content"])
        if fault in ("jsonrepair", "jsonbroken") and "JSON" in prompt:
            repaired = fault == "jsonrepair" and "Reply again with JSON" in prompt
            return JSONResponse(_completion(_valid_json(prompt) if repaired else '{"oops": [1,'))
        if fault.startswith("echo"):  # records every body (and its route), answers with the last user turn's text
            recorded.append({"route": fault, **body})
            return _say(str(body["messages"][-1]["content"]), bool(body.get("stream")))
        if fault == "vision":
            return _say(_what_was_sent(body["messages"][-1]["content"]), bool(body.get("stream")))
        if fault in LYING:
            return _lie(fault, bool(body.get("stream")))
        if fault == "emptybreak" and body.get("stream"):
            return StreamingResponse(_opened_then_broken(), media_type="text/event-stream")
        if body.get("stream"):
            return StreamingResponse(_stream(fault == "halfstream"), media_type="text/event-stream")
        return JSONResponse(_completion("all good"))

    return app


LYING = {"badline", "hugeusage", "negusage", "textusage", "surrogate", "longtext", "bigbody"}
LIED_USAGE = {"hugeusage": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000, "total_tokens": 2_000_000},
              "negusage": {"prompt_tokens": -1_000_000, "completion_tokens": -5, "total_tokens": -1_000_005},
              "textusage": {"prompt_tokens": "seven", "completion_tokens": 2, "total_tokens": 9}}


def _lie(fault: str, stream: bool) -> Response:
    """An answer that breaks the protocol or lies about itself (escaped ASCII JSON, so a lone
    surrogate goes over the wire as the \\ud800 escape a JSON encoder writes for it)."""
    text = {"surrogate": "bad \ud800 text", "longtext": "x" * 20_000, "bigbody": "y" * 5_000_000}.get(fault, "all good")
    usage = LIED_USAGE.get(fault, {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9})
    if not stream:
        if fault == "badline":
            return Response("{not json", media_type="application/json")
        payload = _completion(text) | {"usage": usage}
        return Response(json.dumps(payload), media_type="application/json")

    async def events():  # type: ignore[no-untyped-def]
        if fault == "badline":
            yield "data: {not json\n\n"
        piece = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": "fault-model",
                 "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}
        yield "data: " + json.dumps(piece) + "\n\n"
        yield "data: " + json.dumps({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0,
                                      "model": "fault-model", "choices": [], "usage": usage}) + "\n\n"
        yield "data: [DONE]\n\n"
    return StreamingResponse(events(), media_type="text/event-stream")


def _say(text: str, stream: bool) -> Response:
    """`text` as a chat completion, or as a one-piece stream that ends properly."""
    if not stream:
        return JSONResponse(_completion(text))

    async def events():  # type: ignore[no-untyped-def]
        piece = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "fault-model",
                 "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(piece)}\n\ndata: [DONE]\n\n"
    return StreamingResponse(events(), media_type="text/event-stream")


def _what_was_sent(content: object) -> str:
    """The parts of the user's turn as this server received and decoded them."""
    import base64
    import io

    from PIL import Image

    if isinstance(content, str):
        return f"text only: {content}"
    seen = []
    for part in content:  # type: ignore[union-attr]
        if part["type"] == "image_url":
            url = part["image_url"]["url"]
            if url.startswith("data:"):
                with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
                    seen.append(f"image {image.format} {image.size[0]}x{image.size[1]}")
            else:
                seen.append(f"image at {url}")
        else:
            seen.append(part["type"] if part["type"] != "text" else f"text: {part['text']}")
    return "; ".join(seen)


def _valid_json(prompt: str) -> str:
    """A reply valid for the schema the prompt shows (a plan, or a supervisor's decision)."""
    if "subtasks" in prompt:
        return '{"subtasks": [{"id": 1, "instruction": "say yes"}, {"id": 2, "instruction": "say no"}]}'
    if "(none yet)" in prompt:
        return '{"action": "assign", "worker": "w1", "instruction": "check the sky"}'
    return '{"action": "finish", "answer": "yes"}'


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    payload = {"error": {"message": message, "type": "test_fault", "code": status}}
    return JSONResponse(payload, status_code=status, headers=headers)


def _completion(text: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fault-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
    }


async def _opened_then_broken():  # type: ignore[no-untyped-def]
    """The role chunk, no text, then the connection drops: the upstream took (and billed) the prompt."""
    chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "fault-model",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    yield f"data: {json.dumps(chunk)}\n\n"
    await asyncio.sleep(0.01)
    raise ConnectionResetError("dropping the stream after its first chunk on purpose")


async def _stream(break_halfway: bool):
    for index, word in enumerate(["all ", "good ", "here"]):
        chunk = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "fault-model",
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
        }
        yield f"data: {json.dumps(chunk)}\n\n"
        if break_halfway and index == 1:
            raise ConnectionResetError("closing the stream halfway on purpose")
        await asyncio.sleep(0.01)
    final = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fault-model",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    yield f"data: {json.dumps(final)}\n\n"
    yield "data: [DONE]\n\n"


if __name__ == "__main__":
    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
