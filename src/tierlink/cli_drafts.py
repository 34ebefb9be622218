"""`tierlink route collect-drafts` / `extend-drafts`: the device's graded drafts with live signals,
the training data of a post-hoc router."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import Progress

from tierlink.bench.datasets import load_from
from tierlink.cli_bench import DataRoot
from tierlink.cli_fail import fail
from tierlink.cli_models import ModelOption, config_for
from tierlink.core.errors import DataError, TierlinkError
from tierlink.endpoints.base import Endpoint

SelfCheck = Annotated[bool, typer.Option("--self-check", help="Also ask the device whether its draft is right "
                                                               "(the `self_check` signal; one more device call per prompt).")]
Collect = Callable[[Endpoint, Callable[[int, int], None]], Awaitable[tuple[pd.DataFrame, list[str]]]]


def collect_drafts_command(
    prompts: Annotated[str, typer.Option(help="CSV/outcome table with prompt_id,prompt[,task,gold], or a dataset key.")],
    out: Annotated[Path, typer.Option(help="CSV to append the drafts to (an interrupted run resumes).")],
    samples: Annotated[int, typer.Option(min=0, max=8, help="Extra sampled drafts per prompt, for agreement.")] = 4,
    max_tokens: Annotated[int, typer.Option(min=1, help="Draft length cap (use the session's cap).")] = 16,
    limit: Annotated[int | None, typer.Option(min=1, help="Draft at most this many prompts.")] = None,
    self_check: SelfCheck = False,
    config: Annotated[Path | None, typer.Option(help="Deployment YAML (default: the embedded Gemma device).")] = None,
    model: ModelOption = None,
    data_root: DataRoot = None,
) -> None:
    """Run the device model on prompts and record its drafts with log-prob, entropy and
    agreement signals, graded where a gold answer is given: training data for `--router posthoc`."""
    from tierlink.learn.draft_collection import collect_drafts

    def table() -> pd.DataFrame:
        frame = load_from(prompts, data_root) if not Path(prompts).suffix else _read_table(Path(prompts), "prompt_id,prompt[,task,gold]")
        if limit is not None:
            frame = frame[frame["prompt_id"].isin(frame["prompt_id"].drop_duplicates().head(limit))]
        return frame

    _run(config, model, out, "drafting", lambda endpoint, report: collect_drafts(
        endpoint, table(), out, samples, max_tokens, progress=report, self_check=self_check))


def extend_drafts_command(
    drafts: Annotated[Path, typer.Option(help="Drafts written by `route collect-drafts` with the same device.")],
    out: Annotated[Path, typer.Option(help="CSV to write the extended drafts to (an interrupted run resumes).")],
    samples: Annotated[int, typer.Option(min=0, max=8, help="Sampled drafts per prompt in all (more than the drafts have).")] = 8,
    self_check: SelfCheck = False,
    config: Annotated[Path | None, typer.Option(help="Deployment YAML (default: the embedded Gemma device).")] = None,
    model: ModelOption = None,
) -> None:
    """Add evidence to drafts already collected, reusing each stored greedy draft: more samples
    (agreement over all of them) and a self-check verdict."""
    from tierlink.learn.draft_collection import extend_drafts

    _run(config, model, out, "extending", lambda endpoint, report: extend_drafts(
        endpoint, _read_table(drafts, "the --out file of `route collect-drafts`"), out, samples, self_check, progress=report))


def _run(config: Path | None, model: str | None, out: Path, verb: str, collect: Collect) -> None:
    """Build the device, run `collect` under a progress bar, and report what was written."""
    from tierlink.config.build import build_deployment

    console = Console()
    try:
        deployment = build_deployment(config_for(config, model))
        endpoint = deployment.endpoints[deployment.device]
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"{verb} with {endpoint.name}", total=None)
            table, failures = asyncio.run(collect(endpoint, lambda done, total: progress.update(bar, completed=done, total=total)))
    except TierlinkError as exc:
        fail(exc)
    for failure in failures:
        console.print(f"[yellow]skipped[/] {failure}")
    graded = f", device accuracy {table['score'].mean():.3f}" if "score" in table.columns and len(table) else ""
    console.print(f"{len(table)} drafts in {out}{graded}; {len(failures)} failed")


def _read_table(path: Path, wanted: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(str(path), "file does not exist", f"give {wanted}")
    from tierlink.core.outcomes import read_table_csv

    return read_table_csv(path)
