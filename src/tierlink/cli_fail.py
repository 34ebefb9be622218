"""How every tierlink command reports a TierlinkError: one line naming the problem and the fix, exit code 2."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from tierlink.core.errors import TierlinkError


def fail(exc: TierlinkError, console: Console | None = None) -> NoReturn:
    (console or Console()).print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(code=2)
