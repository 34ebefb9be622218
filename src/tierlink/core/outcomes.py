"""The canonical outcome table: one row per (prompt, model) with what the model really did.

Every recorded benchmark is converted to this long format; routers, replay endpoints and the
evaluation harness all read it. Required columns: prompt_id, prompt, task, model, score (0..1).
Optional: cost_usd, input_tokens, output_tokens, latency_s, response, split, gold, turn and
`estimated` (comma-separated names of the columns that are estimates, not records). A prompt_id
is unique per model: a multi-turn item gives each turn its own id. Reads and writes CSV, JSONL
and Parquet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tierlink.core.errors import DataError

REQUIRED = ("prompt_id", "prompt", "task", "model", "score")
OPTIONAL_NUMERIC = ("cost_usd", "input_tokens", "output_tokens", "latency_s")
OPTIONAL_TEXT = ("response", "split", "gold", "estimated")
COLUMNS = (*REQUIRED, *OPTIONAL_NUMERIC, *OPTIONAL_TEXT)
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def read_outcomes(path: Path) -> pd.DataFrame:
    """Read and validate an outcome table from CSV, JSONL or Parquet (chosen by extension)."""
    fmt = _format(path)
    if not path.is_file():
        raise DataError(str(path), "file does not exist", "give the path of an outcome table")
    if fmt == "csv":
        frame = read_table_csv(path)
    elif fmt == "jsonl":
        frame = pd.read_json(path, lines=True, dtype={"prompt_id": str, "gold": str})
    else:
        frame = pd.read_parquet(path)
    return validate_outcomes(frame, str(path))


def read_table_csv(path: Path) -> pd.DataFrame:
    """A CSV with tierlink's columns read as written: ids and gold answers stay text ("007",
    "NA"), only empty cells are missing. Unvalidated: drafts without grades are read this way too."""
    return pd.read_csv(path, dtype={"prompt_id": str, "gold": str}, keep_default_na=False, na_values=[""])


def write_outcomes(frame: pd.DataFrame, path: Path) -> None:
    """Write a (validated) outcome table; the format follows the extension."""
    frame = validate_outcomes(frame, str(path))
    fmt = _format(path)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)


def validate_outcomes(frame: pd.DataFrame, source: str = "outcome table") -> pd.DataFrame:
    """Check columns, types, score range and uniqueness; return a normalised copy."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            source,
            f"missing column(s) {', '.join(missing)}",
            f"an outcome table needs the columns {', '.join(REQUIRED)}",
        )
    out = frame.copy()
    for column in ("prompt_id", "prompt", "task", "model"):
        out[column] = out[column].astype(str)
    out["score"] = _numeric(out, "score", source)
    bad = out.index[(out["score"] < 0) | (out["score"] > 1) | out["score"].isna()]
    if len(bad):
        row = out.loc[bad[0]]
        raise DataError(
            f"{source} (prompt_id {row['prompt_id']}, model {row['model']})",
            f"score {row['score']} is outside 0..1",
            "scale scores to 0..1 (e.g. a 1-10 grade g becomes (g-1)/9)",
        )
    for column in OPTIONAL_NUMERIC:
        if column in out.columns:
            out[column] = _numeric(out, column, source)
            negative = out.index[out[column] < 0]
            if len(negative):
                row = out.loc[negative[0]]
                raise DataError(
                    f"{source} (prompt_id {row['prompt_id']}, model {row['model']})",
                    f"{column} {row[column]} is negative",
                    f"{column} must be zero or more",
                )
    dupes = out[out.duplicated(["prompt_id", "model"], keep=False)]
    if len(dupes):
        first = dupes.iloc[0]
        raise DataError(
            source,
            f"{len(dupes)} rows repeat a (prompt_id, model) pair, e.g. ({first['prompt_id']}, {first['model']})",
            "keep one row per prompt and model (or give prompts distinct ids)",
        )
    return out.reset_index(drop=True)


def wide_to_long(
    frame: pd.DataFrame,
    models: Sequence[str],
    prompt_id: str = "prompt_id",
    prompt: str = "prompt",
    task: str | None = "task",
    default_task: str = "default",
) -> pd.DataFrame:
    """Convert one-column-per-model scores (RouteLLM style) to the canonical long format."""
    absent = [m for m in (*models, prompt_id, prompt) if m not in frame.columns]
    if absent:
        raise DataError("wide table", f"missing column(s) {', '.join(absent)}", "name existing columns")
    base = pd.DataFrame(
        {
            "prompt_id": frame[prompt_id].astype(str),
            "prompt": frame[prompt].astype(str),
            "task": frame[task].astype(str) if task and task in frame.columns else default_task,
        }
    )
    parts = []
    for model in models:
        part = base.copy()
        part["model"] = model
        part["score"] = frame[model].astype(float).to_numpy()
        parts.append(part)
    return validate_outcomes(pd.concat(parts, ignore_index=True), "wide table")


def pivot_scores(frame: pd.DataFrame, column: str = "score") -> pd.DataFrame:
    """prompt_id x model matrix of `column` (only prompts every model answered)."""
    return frame.pivot(index="prompt_id", columns="model", values=column).dropna()


def _numeric(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    garbage = frame.index[values.isna() & frame[column].notna()]
    if len(garbage):
        row = frame.loc[garbage[0]]
        raise DataError(
            f"{source} (prompt_id {row['prompt_id']}, model {row['model']})",
            f"{column} {row[column]!r} is not a number",
            f"write {column} as a plain number",
        )
    return values


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(str(path), f"unknown file type '{path.suffix}'", "use .csv, .jsonl or .parquet")
    return fmt
