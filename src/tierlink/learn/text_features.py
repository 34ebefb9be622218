"""Cheap text features of a prompt: the signals a length or keyword heuristic would use."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

_CODE = re.compile(r"```|def |class |\{|\}|;\s*$|import |#include|=>", re.M)
_MATH = re.compile(r"[=+\-*/^]|\d")
_QUESTION_WORDS = ("what", "why", "how", "which", "who", "when", "where", "prove", "explain", "write", "calculate")
NAMES = ("log_chars", "log_words", "digit_share", "math_share", "has_code", "non_ascii_share",
         "lines", "question_marks", *(f"starts_{w}" for w in _QUESTION_WORDS), "has_options")


def text_features(prompts: list[str]) -> npt.NDArray[np.float32]:
    """One row of len(NAMES) features per prompt."""
    rows = []
    for text in prompts:
        n = max(1, len(text))
        lowered = text.lower().lstrip()
        rows.append([
            np.log1p(len(text)),
            np.log1p(len(text.split())),
            sum(c.isdigit() for c in text) / n,
            len(_MATH.findall(text)) / n,
            float(bool(_CODE.search(text))),
            sum(ord(c) > 127 for c in text) / n,
            np.log1p(text.count("\n")),
            float(text.count("?")),
            *(float(lowered.startswith(w) or f" {w} " in lowered[:80]) for w in _QUESTION_WORDS),
            float(bool(re.search(r"(^|\n)\s*[A-D][.)]\s", text))),
        ])
    return np.asarray(rows, dtype=np.float32)
