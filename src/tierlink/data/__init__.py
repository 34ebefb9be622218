"""Small, permissively licensed data slices shipped with tierlink (see NOTICE.md)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

ROUTERARENA_MCQ = "routerarena_mcq.csv"


def shipped(name: str) -> Path:
    """Path of a shipped data file."""
    return Path(str(files("tierlink.data").joinpath(name)))
