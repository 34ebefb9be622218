"""The scoring contract: a CSV of `prompt_id,score` (higher = more benefit from the strong model).

Anything that writes this file can be evaluated by `tierlink bench curve`, including routers
written outside tierlink.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tierlink.core.errors import DataError


def read_scores(path: Path) -> pd.Series:
    """prompt_id -> score; duplicate ids, missing columns and non-numbers are clear errors."""
    if not path.is_file():
        raise DataError(str(path), "scores file does not exist", "write prompt_id,score rows (see `tierlink bench route`)")
    frame = pd.read_csv(path, dtype={"prompt_id": str})
    missing = {"prompt_id", "score"} - set(frame.columns)
    if missing:
        raise DataError(str(path), f"missing column(s) {', '.join(sorted(missing))}", "the header must be prompt_id,score")
    values = pd.to_numeric(frame["score"], errors="coerce")
    bad = frame.index[values.isna() | ~np.isfinite(values.fillna(0))]
    if len(bad):
        row = frame.loc[bad[0]]
        raise DataError(f"{path} (prompt_id {row['prompt_id']})", f"score {row['score']!r} is not a finite number", "write a number")
    dupes = frame["prompt_id"][frame["prompt_id"].duplicated()]
    if len(dupes):
        raise DataError(str(path), f"prompt_id {dupes.iloc[0]} appears more than once", "give each prompt one score")
    return pd.Series(values.to_numpy(dtype=float), index=frame["prompt_id"].to_numpy(dtype=str), name="score")


def write_scores(prompt_ids: np.ndarray, scores: np.ndarray, path: Path) -> None:
    """Write the prompt_id,score CSV that `read_scores` and `tierlink bench curve` read."""
    pd.DataFrame({"prompt_id": prompt_ids, "score": scores}).to_csv(path, index=False)
