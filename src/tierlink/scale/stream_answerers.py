"""Who answers a fleet's requests (`scale.streams`): recorded outcomes, so a thousand agents cost
no model calls, or real endpoints, so a few agents show the same scheduling with real models."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from tierlink.core.grading import grade
from tierlink.core.messages import Request
from tierlink.endpoints.base import Endpoint
from tierlink.scale.recorded_agents import RecordedAgents
from tierlink.scale.streams import Answer, Where


@dataclass(frozen=True)
class ReplayAnswerer:
    """The device and the cloud as two recorded models: right or wrong, and as long, as recorded."""

    recorded: RecordedAgents
    device_model: str
    cloud_model: str

    @property
    def questions(self) -> int:
        """How many questions requests are drawn from."""
        return len(self.recorded.questions)

    async def answer(self, where: Where, question: int) -> Answer:
        """The recorded outcome of the device's or the cloud's model on the question."""
        model = self.device_model if where == "device" else self.cloud_model
        name = self.recorded.questions[question]
        return Answer(self.recorded.correct(model, name), self.recorded.output_tokens(model, name))


class LiveAnswerer:
    """Real endpoints answer, graded against the gold answers; the seconds are measured here."""

    def __init__(self, device: Endpoint, cloud: Endpoint, items: Sequence[tuple[str, str]], max_tokens: int = 48) -> None:
        self.device, self.cloud, self.items, self.max_tokens = device, cloud, list(items), max_tokens
        self.calls: list[tuple[Where, float]] = []

    @property
    def questions(self) -> int:
        """How many (question, gold) items requests are drawn from."""
        return len(self.items)

    async def answer(self, where: Where, question: int) -> Answer:
        """Ask the real model; its measured seconds become the request's service time."""
        endpoint = self.device if where == "device" else self.cloud
        text, gold = self.items[question]
        started = time.perf_counter()
        completion = await endpoint.complete(Request.of(text, max_tokens=self.max_tokens, temperature=0.0))
        seconds = time.perf_counter() - started
        self.calls.append((where, seconds))
        return Answer(bool(grade(completion.text, gold)), max(1, completion.usage.output_tokens), seconds)
