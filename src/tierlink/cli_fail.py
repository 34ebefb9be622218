"""How every tierlink command reports a TierlinkError: one line naming the problem and the fix, exit code 2."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from tierlink.core.errors import TierlinkError


def fail(exc: TierlinkError, console: Console | None = None) -> NoReturn:
    """Print the error in one line (markup escaped), exit code 2: every command's error contract."""
    (console or Console()).print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(code=2)
