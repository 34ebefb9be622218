"""Held-out evaluation at a call cap: the device's served answers (llama.cpp, the adapter
applied), which of them go to the cloud under each method, and the accuracy that results."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel

from tierlink.core.messages import Message, Request
from tierlink.endpoints.base import Endpoint
from tierlink.learn.self_routing.tasks import TaskItem, grade_number
from tierlink.routing.help_tag import asks_for_help


class DeviceAnswer(BaseModel):
    """The device's greedy answer to one test item, as served."""

    prompt_id: str
    text: str
    asked: bool  # ends with the help tag
    correct: bool  # answered locally and right
    mean_logprob: float | None  # the cascade's signal


class Served(BaseModel):
    """A method's outcome on the test items."""

    method: str
    accuracy: float
    call_rate: float
    by_level: dict[int, float]


async def device_answers(endpoint: Endpoint, items: Sequence[TaskItem], max_tokens: int = 20,
                         on_answer: Callable[[], None] | None = None) -> list[DeviceAnswer]:
    """Greedy answers with log-probabilities, one call per item (the endpoint adds its system turn)."""
    answers = []
    for item in items:
        done = await endpoint.complete(Request(messages=(Message(role="user", content=item.prompt),), max_tokens=max_tokens,
                                               logprobs=True, prompt_id=item.prompt_id))
        asked = asks_for_help(done.text)
        answers.append(DeviceAnswer(prompt_id=item.prompt_id, text=done.text, asked=asked,
                                    correct=not asked and grade_number(done.text, item.gold), mean_logprob=done.mean_logprob))
        if on_answer is not None:
            on_answer()
    return answers


def first_asks(asks: Sequence[bool], ratio: float) -> list[bool]:
    """Serving's cap: the first ceil(ratio * n) asks go to the cloud, later ones stay on the device."""
    allowed, sent = math.ceil(ratio * len(asks) - 1e-9), []
    for ask in asks:
        sent.append(ask and sum(sent) < allowed)
    return sent


def highest(scores: Sequence[float], ratio: float) -> list[bool]:
    """The ceil(ratio * n) items with the highest scores (a router's or a cascade's picks)."""
    count = math.ceil(ratio * len(scores) - 1e-9)
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:count]
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[order] = True
    return chosen.tolist()


def at_random(n: int, ratio: float, seed: int) -> list[bool]:
    """ceil(ratio * n) items drawn at random (the random-offload baseline)."""
    picked = set(random.Random(seed).sample(range(n), math.ceil(ratio * n - 1e-9)))
    return [i in picked for i in range(n)]


def served(method: str, items: Sequence[TaskItem], device: Sequence[DeviceAnswer], cloud_correct: dict[str, bool],
           sent: Sequence[bool]) -> Served:
    """Accuracy when the `sent` items are answered by the cloud and the rest by the device."""
    right = [cloud_correct[i.prompt_id] if s else d.correct for i, d, s in zip(items, device, sent, strict=True)]
    levels = sorted({i.level for i in items})
    by_level = {lv: float(np.mean([r for i, r in zip(items, right, strict=True) if i.level == lv])) for lv in levels}
    return Served(method=method, accuracy=float(np.mean(right)), call_rate=float(np.mean(sent)), by_level=by_level)
