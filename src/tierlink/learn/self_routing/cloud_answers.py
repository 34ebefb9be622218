"""The cloud's answer to each prompt, asked once and kept on disk: training and evaluation read
the cache, so a run never pays for the same cloud call twice (the paper caches them too)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tierlink.core.messages import Message, Request
from tierlink.endpoints.base import Endpoint
from tierlink.learn.self_routing.tasks import TaskItem


def cloud_request(item: TaskItem, max_tokens: int = 32) -> Request:
    """What the cloud is asked: the question alone (the device's attempt is not forwarded)."""
    return Request(messages=(Message(role="user", content=item.prompt),),
                   prompt_id=item.prompt_id, max_tokens=max_tokens, temperature=0.0)


async def cloud_answers(endpoint: Endpoint, items: list[TaskItem], cache: Path,
                        on_answer: Callable[[], None] | None = None) -> dict[str, str]:
    """Answers by prompt id; only prompts missing from `cache` (a JSON file) are asked, and the
    cache is rewritten after each so an interrupted run keeps what it paid for."""
    known: dict[str, str] = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    for item in items:
        if item.prompt_id not in known:
            known[item.prompt_id] = (await endpoint.complete(cloud_request(item))).text
            partial = cache.with_name(cache.name + ".partial")
            partial.write_text(json.dumps(known), encoding="utf-8")
            partial.replace(cache)
        if on_answer is not None:
            on_answer()
    return {item.prompt_id: known[item.prompt_id] for item in items}
