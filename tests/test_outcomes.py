"""The canonical outcome table: formats, validation errors and wide-to-long conversion."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierlink.bench.scores import read_scores
from tierlink.core.errors import DataError
from tierlink.core.outcomes import read_outcomes, validate_outcomes, wide_to_long, write_outcomes

ROWS = [
    {"prompt_id": "1", "prompt": "q1", "task": "t", "model": "a", "score": 1.0, "cost_usd": 0.01},
    {"prompt_id": "1", "prompt": "q1", "task": "t", "model": "b", "score": 0.0, "cost_usd": 0.02},
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_round_trip_in_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    write_outcomes(pd.DataFrame(ROWS), path)
    back = read_outcomes(path)
    assert back[["prompt_id", "model", "score", "cost_usd"]].to_dict("records") == [
        {k: r[k] for k in ("prompt_id", "model", "score", "cost_usd")} for r in ROWS
    ]


def test_validation_errors_name_the_problem() -> None:
    with pytest.raises(DataError, match="missing column.*task"):
        validate_outcomes(pd.DataFrame([{"prompt_id": "1", "prompt": "q", "model": "a", "score": 1}]))
    with pytest.raises(DataError, match="outside 0..1") as info:
        validate_outcomes(pd.DataFrame([{**ROWS[0], "score": 7}]))
    assert "prompt_id 1" in info.value.source and "(g-1)/9" in info.value.fix
    with pytest.raises(DataError, match="repeat a \\(prompt_id, model\\) pair"):
        validate_outcomes(pd.DataFrame([ROWS[0], ROWS[0]]))
    with pytest.raises(DataError, match="not a number"):
        validate_outcomes(pd.DataFrame([{**ROWS[0], "score": "high"}]))
    with pytest.raises(DataError, match="negative"):
        validate_outcomes(pd.DataFrame([{**ROWS[0], "cost_usd": -1}]))


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown file type"):
        read_outcomes(tmp_path / "t.xlsx")
    with pytest.raises(DataError, match="does not exist"):
        read_outcomes(tmp_path / "t.csv")


def test_wide_to_long() -> None:
    wide = pd.DataFrame({"id": [1, 2], "text": ["q1", "q2"], "subject": ["s", "s"], "m1": [True, False], "m2": [1.0, 1.0]})
    long = wide_to_long(wide, ["m1", "m2"], prompt_id="id", prompt="text", task="subject")
    assert len(long) == 4 and set(long["model"]) == {"m1", "m2"}
    assert long.loc[(long["model"] == "m1") & (long["prompt_id"] == "2"), "score"].item() == 0.0
    with pytest.raises(DataError, match="missing column"):
        wide_to_long(wide, ["m3"], prompt_id="id", prompt="text")


def test_scores_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("prompt_id,score\na,1\na,2\n")
    with pytest.raises(DataError, match="more than once"):
        read_scores(path)
    path.write_text("prompt_id,value\na,1\n")
    with pytest.raises(DataError, match="missing column"):
        read_scores(path)
    path.write_text("prompt_id,score\na,nan\n")
    with pytest.raises(DataError, match="not a finite number"):
        read_scores(path)
