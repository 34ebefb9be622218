"""Grade free-text answers against gold labels (multiple-choice letters for now)."""

from __future__ import annotations

import re

_BOXED = re.compile(r"\\boxed\{\s*\(?([A-J])\)?\s*\}")
_STATED = re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-J])\b", re.IGNORECASE)
_LEADING = re.compile(r"^\W*\(?([A-J])(?:[.):\s]|$)")
_ANY = re.compile(r"\b([A-J])\b")


def extract_choice(text: str) -> str | None:
    """The option letter a response commits to: \\boxed{X}, 'answer is X', a leading 'X.', or
    the first standalone capital A-J. None if it names none."""
    for pattern in (_BOXED, _STATED, _LEADING, _ANY):
        match = pattern.search(text.strip())
        if match:
            return match.group(1).upper()
    return None


def grade_choice(text: str, gold: str) -> float:
    """1.0 if the response's letter equals the gold letter, else 0.0."""
    return float(extract_choice(text) == gold.strip().upper())
