"""Tasks a small device model can learn to defer on: arithmetic of graded size.

Difficulty rises with the operands' digits, so local accuracy falls with it and a policy can
learn from the question itself when to ask. Items are generated from a seed (no data to ship),
and the train and test prompts never overlap.
"""

from __future__ import annotations

import random
import re

from pydantic import BaseModel

from tierlink.routing.help_tag import without_help_tag

ANSWER_FORMAT = "Answer with the number only."
_NUMBER = re.compile(r"-?\d[\d,]*")


class TaskItem(BaseModel):
    """One question with its gold answer and difficulty level."""

    prompt_id: str
    question: str
    gold: str
    level: int

    @property
    def prompt(self) -> str:
        """The user turn: the question and the answer format the grader reads."""
        return f"{self.question} {ANSWER_FORMAT}"


def arithmetic_items(count: int, seed: int, levels: tuple[int, ...] = (1, 2, 3, 4), ops: str = "+-*") -> list[TaskItem]:
    """`count` questions a + b, a - b or a * b with `level`-digit operands (multiplication one digit
    smaller), levels and operations evenly mixed; deterministic for a seed."""
    rng = random.Random(seed)
    items = []
    for index in range(count):
        level, op = levels[index % len(levels)], rng.choice(ops)
        digits = max(1, level - 1) if op == "*" else level
        a, b = (rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1) for _ in range(2))
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        items.append(TaskItem(prompt_id=f"arith-{seed}-{index}", question=f"What is {a} {op} {b}?", gold=str(value), level=level))
    return items


def split_items(count: int, seed: int, test_share: float = 0.3, **kw: object) -> tuple[list[TaskItem], list[TaskItem]]:
    """Train and test items with no question in both (duplicates of a test question leave train)."""
    items = arithmetic_items(count, seed, **kw)  # type: ignore[arg-type]
    cut = int(len(items) * (1 - test_share))
    test = items[cut:]
    held = {item.question for item in test}
    return [item for item in items[:cut] if item.question not in held], test


def grade_number(answer: str, gold: str) -> bool:
    """Is the last number the answer states (help tag removed, thousands commas ignored) the gold one?"""
    found = _NUMBER.findall(without_help_tag(answer))
    return bool(found) and found[-1].replace(",", "") == gold
