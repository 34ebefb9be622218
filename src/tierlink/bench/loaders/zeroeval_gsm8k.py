"""ZeroEval's GSM8K outcomes (Apache-2.0; GSM8K MIT): 42 models, zero-shot JSON chain of thought.

`root` holds three matrices derived from ZeroEval's `result_dirs/gsm/<model>.json`
(github.com/yuchenlin/ZeroEval, see SOURCE.txt): `questions.csv` (session_id, question, gold),
`correct_matrix.csv` (session_id x model, 1/0, empty where the model has no output) and
`output_chars_matrix.csv` (characters of each raw output). One row per non-empty cell.

Estimates (4 chars/token): output tokens from the output characters; input tokens from the
question plus ZeroEval's fixed OEQA template (`src/templates/OEQA.py`: the question is pasted into
a 319-character instruction asking for a JSON {reasoning, answer}); chat-template tokens are not
counted. Cost uses `prices.ZEROEVAL`; models without a sourced price get NaN.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tierlink.bench.loaders._common import (
    ESTIMATED_ALL,
    clean_number,
    cost_usd,
    require_file,
    tokens_from_chars,
)
from tierlink.bench.loaders.prices import ZEROEVAL
from tierlink.core.errors import DataError
from tierlink.core.outcomes import validate_outcomes

QUESTIONS = "questions.csv"
CORRECT = "correct_matrix.csv"
OUTPUT_CHARS = "output_chars_matrix.csv"
TEMPLATE_CHARS = 319  # len(OEQA) - len("{question}") in ZeroEval src/templates/OEQA.py


def load(root: Path) -> pd.DataFrame:
    """One row per (GSM8K question, model) that ZeroEval graded."""
    questions = pd.read_csv(
        require_file(root, QUESTIONS, "ZeroEval GSM8K"), dtype=str, keep_default_na=False
    )
    correct = pd.read_csv(require_file(root, CORRECT, "ZeroEval GSM8K"), dtype={"session_id": str})
    chars = pd.read_csv(
        require_file(root, OUTPUT_CHARS, "ZeroEval GSM8K"), dtype={"session_id": str}
    )
    scores = _long(correct, "score", CORRECT, root)
    lengths = _long(chars, "output_chars", OUTPUT_CHARS, root)
    frame = scores.merge(lengths, on=["session_id", "model"], how="left")
    frame = frame.merge(questions, on="session_id", how="left", validate="many_to_one")
    if frame["question"].isna().any():
        missing = frame.loc[frame["question"].isna(), "session_id"].iloc[0]
        raise DataError(
            str(root / QUESTIONS), f"session {missing} has no question", "use matching files"
        )
    out = pd.DataFrame(
        {
            "prompt_id": frame["session_id"],
            "prompt": frame["question"],
            "task": "gsm8k",
            "model": frame["model"],
            "score": frame["score"],
            "gold": frame["gold"].map(clean_number),
            "input_tokens": tokens_from_chars(frame["question"].str.len() + TEMPLATE_CHARS),
            "output_tokens": tokens_from_chars(frame["output_chars"]),
        }
    )
    out["cost_usd"] = cost_usd(
        out["input_tokens"], out["output_tokens"], out["model"].map(ZEROEVAL)
    )
    out["split"] = "test"
    out["estimated"] = ESTIMATED_ALL
    return validate_outcomes(out, str(root / CORRECT))


def _long(matrix: pd.DataFrame, value: str, name: str, root: Path) -> pd.DataFrame:
    """session_id x model matrix -> (session_id, model, value) rows for the non-empty cells."""
    if "session_id" not in matrix.columns:
        raise DataError(str(root / name), "no session_id column", "use ZeroEval's derived matrices")
    long = matrix.melt(id_vars="session_id", var_name="model", value_name=value)
    long[value] = pd.to_numeric(long[value], errors="coerce")
    return long.dropna(subset=[value]).reset_index(drop=True)
