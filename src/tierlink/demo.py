"""The demo: a live multi-turn session on real benchmark questions, a policy deciding each turn.

The device is an embedded catalogue model (live); the cloud is a replay of a recorded real model (or a
configured OpenAI-compatible endpoint). The configured policy (cascade by default) decides each
turn under the configured budget; the same questions then run under always-device and
always-cloud for comparison.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from pydantic import BaseModel

from tierlink.config.build import Deployment
from tierlink.context.history import HistoryPlan
from tierlink.core.budget import Budget
from tierlink.core.grading import extract_choice, grade_choice
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Usage
from tierlink.endpoints.outcome_table import Outcome, OutcomeTable
from tierlink.routing.policy import Policy

DEVICE_MAX_TOKENS = 16  # the cap the drafts the cascade is calibrated on were recorded with
BASELINES = ("always-device", "always-cloud")


class DemoTurn(BaseModel):
    """One turn: the decision, why, the answer, whether it was right, and what it cost."""

    turn: int
    prompt_id: str
    task: str
    gold: str
    endpoint: str | None
    reason: str
    choice: str | None
    correct: bool
    usage: Usage
    budget_left: Budget
    refused: bool
    fallback: bool


class DemoRun(BaseModel):
    """One policy's turns in the demo, with the totals its summary table prints."""

    policy: str
    device: str
    turns: list[DemoTurn]

    @property
    def total(self) -> Usage:
        """Usage of every turn added up: what the run cost."""
        return sum((t.usage for t in self.turns), Usage())

    @property
    def correct(self) -> int:
        """How many turns were answered correctly."""
        return sum(t.correct for t in self.turns)

    @property
    def device_turns(self) -> int:
        """Turns the device answered itself (for a cascade: its accepted drafts)."""
        return sum(t.endpoint == self.device for t in self.turns)

    @property
    def device_correct(self) -> int:
        """Correct answers among the turns the device answered itself."""
        return sum(t.correct for t in self.turns if t.endpoint == self.device)

    def share(self, endpoint: str) -> float:
        """Share of turns `endpoint` answered (0 for a run without turns)."""
        return sum(t.endpoint == endpoint for t in self.turns) / max(1, len(self.turns))


def pick_questions(table: OutcomeTable, n: int, seed: int) -> list[Outcome]:
    """n questions chosen deterministically by a seeded hash of their ids."""
    ids = sorted(
        table.prompt_ids(), key=lambda pid: hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()
    )
    rows = {o.prompt_id: o for o in table.rows()}
    return [rows[pid] for pid in ids[:n]]


def demo_policy(deployment: Deployment, name: str | None = None) -> tuple[str, Policy]:
    """The configured policy (or `name`), with the device as router for llm-router."""
    chosen = name or deployment.config.policy.name
    return chosen, deployment.policy(chosen)


async def run_session(
    deployment: Deployment,
    questions: list[Outcome],
    policy_name: str,
    policy: Policy,
    on_turn: Callable[[DemoTurn], None] | None = None,
) -> DemoRun:
    """One session over the questions (independent questions: no history travels)."""
    session = deployment.session(
        policy, deployment.config.budget, expected_turns=len(questions),
        history_plan=HistoryPlan(kind="none"), device_history=HistoryPlan(kind="none"),
    )
    turns = []
    for question in questions:
        request = Request.of(question.prompt, prompt_id=question.prompt_id, max_tokens=DEVICE_MAX_TOKENS)
        result = await session.ask(request)
        gold = question.gold or ""
        turn = DemoTurn(
            turn=result.turn,
            prompt_id=question.prompt_id,
            task=question.task,
            gold=gold,
            endpoint=result.endpoint,
            reason=result.reason,
            choice=extract_choice(result.answer) if not result.refused else None,
            correct=_correct(result.completion, gold),
            usage=result.usage,
            budget_left=result.budget_left,
            refused=result.refused,
            fallback=result.fallback,
        )
        turns.append(turn)
        if on_turn is not None:
            on_turn(turn)
    return DemoRun(policy=policy_name, device=deployment.device, turns=turns)


def _correct(completion: Completion | None, gold: str) -> bool:
    """The recorded grade for replayed answers; our own grading for live ones."""
    if completion is None:
        return False
    if completion.recorded_score is not None:
        return completion.recorded_score >= 0.5
    return bool(grade_choice(completion.text, gold))
