"""Read and grade free-text answers: option letters, normalised short answers, agreement keys."""

from __future__ import annotations

import re

_BOXED = re.compile(r"\\boxed\{\s*\(?([A-J])\)?\s*\}")
_STATED = re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-J])\b", re.IGNORECASE)
_LEADING = re.compile(r"^\W*\(?([A-J])(?:[.):\s]|$)")
_ANY = re.compile(r"\b([A-J])\b")
_LABELLED = re.compile(r"^\W*\(?([A-J])[.)]")


def extract_choice(text: str) -> str | None:
    """The option letter a response commits to: \\boxed{X}, 'answer is X', a leading 'X.', or
    the first standalone capital A-J. None if it names none."""
    for pattern in (_BOXED, _STATED, _LEADING, _ANY):
        match = pattern.search(text.strip())
        if match:
            return match.group(1).upper()
    return None


def stated_choice(text: str) -> str | None:
    """The option letter only when stated explicitly (\\boxed{X}, 'answer is X', a leading 'X.' or
    'X)'): unlike extract_choice, a stray capital in free text is not taken for a choice."""
    for pattern in (_BOXED, _STATED, _LABELLED):
        match = pattern.search(text.strip())
        if match:
            return match.group(1).upper()
    return None


def grade_choice(text: str, gold: str) -> float:
    """1.0 if the response's letter equals the gold letter, else 0.0."""
    return float(extract_choice(text) == gold.strip().upper())


_WORDS = re.compile(r"[a-z0-9]+")


def normalised_answer(text: str, words: int = 8) -> str:
    """First words of an answer, lower-cased and without punctuation, for agreement checks."""
    return " ".join(_WORDS.findall(text.lower())[:words])


def answer_key(text: str) -> str:
    """What two answers must share to agree: the option letter they state, else their first words."""
    return stated_choice(text) or normalised_answer(text)


def grade(text: str, gold: str) -> float:
    """Option letters are graded by the letter the answer commits to; other gold answers by
    whether the normalised gold appears in the normalised answer."""
    gold = gold.strip()
    if len(gold) == 1 and gold.upper() in "ABCDEFGHIJ":
        return grade_choice(text, gold)
    wanted = normalised_answer(gold, words=32)
    return float(bool(wanted) and wanted in normalised_answer(text, words=256))
