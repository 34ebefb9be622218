"""Named outcome datasets: a key -> how to load it, where its shipped slice lives, defaults.

`load_dataset("routellm-mmlu")` reads the small slice shipped inside tierlink;
`load_dataset("routellm-mmlu", root=Path("../shared/data/outcomes/routellm"))` reads the full
public release in the same layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from tierlink.core.errors import DataError
from tierlink.core.outcomes import read_outcomes


@dataclass(frozen=True)
class DatasetSpec:
    """One recorded-outcome dataset."""

    key: str
    description: str
    loader: Callable[[Path], pd.DataFrame]
    slice_dir: str  # folder under tierlink/data/outcomes holding the shipped slice
    full_dir: str  # folder under ../shared/data/outcomes (or a user's copy) of the full release
    weak: str
    strong: str
    licence: str


def shipped_root(spec: DatasetSpec) -> Path:
    """Where the spec's small slice lies inside the installed package (no download needed)."""
    return Path(str(files("tierlink.data").joinpath("outcomes", spec.slice_dir)))


def load_dataset(key: str, root: Path | None = None) -> pd.DataFrame:
    """A canonical outcome table for a named dataset, or for a table file given as `key`."""
    path = Path(key)
    if path.suffix.lower() in (".csv", ".jsonl", ".parquet") and path.exists():
        return read_outcomes(path)
    spec = dataset_spec(key)
    return spec.loader(root if root is not None else shipped_root(spec))


def load_from(key: str, data_root: Path | None = None) -> pd.DataFrame:
    """Like load_dataset, with `data_root` the folder that holds the full releases of every
    dataset (e.g. ../shared/data/outcomes) instead of one dataset's own folder."""
    if data_root is None or Path(key).suffix:
        return load_dataset(key)
    return load_dataset(key, data_root / dataset_spec(key).full_dir)


def dataset_spec(key: str) -> DatasetSpec:
    """The spec registered under `key`; a DataError listing the known keys otherwise."""
    from tierlink.bench.loaders import DATASETS  # loaders import this module's DatasetSpec

    if key not in DATASETS:
        raise DataError(
            f"dataset '{key}'",
            "unknown dataset",
            f"use one of {', '.join(sorted(DATASETS))}, or the path of an outcome table (.csv/.jsonl/.parquet)",
        )
    return DATASETS[key]
