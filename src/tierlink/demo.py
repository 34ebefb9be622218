"""The demo: a short session of real benchmark questions, each answered by both tiers.

Every turn goes to the embedded device model (live) and to the cloud endpoint (a replay of a
recorded real model by default, or a configured OpenAI-compatible server). Routing policies
(a later issue) replace this fixed both-tiers choice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from pydantic import BaseModel

from tierlink.bench.grading import extract_choice, grade_choice
from tierlink.config.build import Deployment
from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Usage
from tierlink.endpoints.outcome_table import Outcome, OutcomeTable

DEVICE_MAX_TOKENS = 24


class TierAnswer(BaseModel):
    """One tier's answer to one turn, or why it could not answer."""

    endpoint: str
    choice: str | None = None
    correct: bool | None = None
    usage: Usage | None = None
    error: str | None = None
    origin: str = "none"


class DemoTurn(BaseModel):
    turn: int
    prompt_id: str
    task: str
    gold: str
    device: TierAnswer
    cloud: TierAnswer


def pick_questions(table: OutcomeTable, n: int, seed: int) -> list[Outcome]:
    """n questions chosen deterministically by a seeded hash of their ids."""
    ids = sorted(
        table.prompt_ids(), key=lambda pid: hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()
    )
    rows = {o.prompt_id: o for o in table.rows()}
    return [rows[pid] for pid in ids[:n]]


async def run_demo(
    deployment: Deployment,
    questions: list[Outcome],
    cloud: str,
    on_turn: Callable[[DemoTurn], None] | None = None,
) -> list[DemoTurn]:
    """Ask every question of the device and of `cloud`; a failing tier never loses the turn."""
    turns: list[DemoTurn] = []
    for index, question in enumerate(questions, start=1):
        gold = question.gold or ""
        device = await _ask(deployment, deployment.device, question, index, DEVICE_MAX_TOKENS, gold)
        remote = await _ask(deployment, cloud, question, index, 256, gold)
        turn = DemoTurn(
            turn=index,
            prompt_id=question.prompt_id,
            task=question.task,
            gold=gold,
            device=device,
            cloud=remote,
        )
        turns.append(turn)
        if on_turn is not None:
            on_turn(turn)
    return turns


async def _ask(
    deployment: Deployment, name: str, question: Outcome, turn: int, max_tokens: int, gold: str
) -> TierAnswer:
    endpoint = deployment.endpoints[name]
    request = Request.of(
        question.prompt, prompt_id=question.prompt_id, max_tokens=max_tokens, turn=turn
    )
    try:
        completion = await endpoint.complete(request)
    except TierlinkError as exc:
        prefix = "unreachable: " if isinstance(exc, LinkDown) else ""
        return TierAnswer(endpoint=name, error=f"{prefix}{exc}")
    return TierAnswer(
        endpoint=name,
        choice=extract_choice(completion.text),
        correct=_correct(completion, gold),
        usage=completion.usage,
        origin=completion.usage.origin_label,
    )


def _correct(completion: Completion, gold: str) -> bool:
    """The recorded grade for replayed answers; our own grading for live ones."""
    if completion.recorded_score is not None:
        return completion.recorded_score >= 0.5
    return bool(grade_choice(completion.text, gold))
