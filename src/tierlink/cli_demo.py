"""`tierlink demo`: a live routed session on real questions, readable in 80 columns and in a pipe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from tierlink.cli_fail import fail
from tierlink.cli_models import ModelOption, config_for, verified_with_bar
from tierlink.config.build import Deployment, build_deployment
from tierlink.config.load import outcome_path
from tierlink.config.schema import ReplayConfig, TierlinkConfig
from tierlink.core.budget import Budget
from tierlink.core.errors import TierlinkError
from tierlink.demo import BASELINES, DemoRun, DemoTurn, demo_policy, pick_questions, run_session
from tierlink.endpoints.base import unwrapped
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.outcome_table import Outcome, OutcomeTable
from tierlink.routing.policy import Policy, make_policy

ORIGIN_LEGEND = (
    "live = a real model ran here; replay = recorded outputs of a real model (RouterArena); "
    "simulated = computed from a profile (link times, energy, missing latencies)."
)
WIDE = 120  # below this many columns the decision table drops its budget column and shortens reasons
PIPE_WIDTH = 160  # a pipe has no width: print whole lines rather than wrap at rich's default of 80


def demo(
    turns: Annotated[int, typer.Option(min=1, max=200, help="Number of benchmark questions.")] = 6,
    seed: Annotated[int, typer.Option(help="Which questions (deterministic).")] = 0,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML deployment file; default: embedded.")] = None,
    model: ModelOption = None,
    policy: Annotated[str | None, typer.Option(help="Routing policy; default: the configured one (cascade).")] = None,
    compare: Annotated[bool, typer.Option(help="Also run always-device and always-cloud for the summary.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print turns and the summary as JSON lines.")] = False,
) -> None:
    """A live multi-turn session: a policy routes real benchmark questions between tiers.

    The device is the most capable installed catalogue model (`tierlink models`); pick another
    with --model."""
    console = _console(as_json)
    try:
        cfg = config_for(config, model, model_catalogue().most_capable_installed().name)
        deployment = build_deployment(cfg)
        if not any(n != deployment.device for n in deployment.endpoints):
            raise TierlinkError("the configuration has no endpoint besides the device to route to")
        device = unwrapped(deployment.endpoints[deployment.device])
        if isinstance(device, LlamaCppEndpoint) and device.catalogue_model is not None:
            verified_with_bar(device.catalogue_model, console)  # a missing model fails here, in one line
        questions = pick_questions(_question_table(cfg), turns, seed)
        main_name, main_policy = demo_policy(deployment, policy)
        runs = [(main_name, main_policy)]
        if compare:
            runs += [(name, make_policy(name)) for name in BASELINES if name != main_name]
        label = deployment.device + (f" = {device.catalogue_model.title}" if isinstance(device, LlamaCppEndpoint)
                                     and device.catalogue_model is not None else "")
        console.print(f"[dim]device: {label} (live); "
                      f"{len(questions)} questions; other models: `tierlink models`, --model NAME[/]")
        with Progress(console=console, transient=True) as progress:
            results = asyncio.run(_demo(deployment, questions, runs, progress))
    except TierlinkError as exc:
        fail(exc, console)
    if as_json:
        for turn in results[0].turns:
            typer.echo(turn.model_dump_json())
        typer.echo(json.dumps({"summary": [_summary_record(run) for run in results]}))
        return
    console.print(_decision_table(results[0], deployment.config.budget, console.width))
    console.print(_summary_table(results))
    console.print(f"[dim]{ORIGIN_LEGEND}[/]")


def _console(as_json: bool) -> Console:
    """stderr for JSON runs; whole lines in a pipe; the terminal's width in a terminal."""
    console = Console(stderr=as_json)
    if not console.is_terminal:
        console = Console(stderr=as_json, width=PIPE_WIDTH)
    return console


async def _demo(deployment: Deployment, questions: list[Outcome], runs: list[tuple[str, Policy]],
                progress: Progress) -> list[DemoRun]:
    try:
        results = []
        for name, policy in runs:
            task = progress.add_task(f"{name}", total=len(questions))
            results.append(await run_session(deployment, questions, name, policy, _advancer(progress, task)))
        return results
    finally:
        await deployment.aclose()


def _advancer(progress: Progress, task: TaskID) -> Callable[[DemoTurn], None]:
    def advance(_turn: DemoTurn) -> None:
        progress.advance(task)

    return advance


def _decision_table(run: DemoRun, budget: Budget, width: int) -> Table:
    """One line per turn; only the task and the reason are cut (with …) to fit; the budget left
    is shown from WIDE columns on."""
    wide = width >= WIDE
    table = Table(title=f"tierlink demo: policy {run.policy}, budget {budget.latency_s:g} s / ${budget.dollars:g} "
                  "for the session", box=None, pad_edge=False)
    headers = ["#", "task", "who", "why", "ans", "ok", "s", "$"] + (["left"] if wide else [])
    rows = [_turn_row(run, t, wide) for t in run.turns]
    widths = [max([len(h), *(Text.from_markup(row[i]).cell_len for row in rows)]) for i, h in enumerate(headers)]
    widths[1] = min(widths[1], 24 if wide else 12)
    # the reason gets what the other columns (and two cells of padding between each) leave
    widths[3] = min(widths[3], max(12, width - 1 - sum(widths) + widths[3] - 2 * (len(headers) - 1)))
    for header, column_width in zip(headers, widths, strict=True):
        table.add_column(header, justify="left" if header in ("task", "who", "why") else "right",
                         no_wrap=True, overflow="ellipsis", width=column_width)
    for row in rows:
        table.add_row(*row)
    return table


def _turn_row(run: DemoRun, t: DemoTurn, wide: bool) -> list[str]:
    who = "[red]refused[/]" if t.refused else (t.endpoint or "-") + (" (fb)" if t.fallback else "")
    row = [str(t.turn), t.task.replace("_", " "), who, t.reason.removeprefix(f"{run.policy}: "),
           t.choice or "?", "[green]✓[/]" if t.correct else f"[red]✗[/] {t.gold}",
           f"{t.usage.latency.total_s:.2f}", f"{t.usage.dollars:.6f}"]
    if wide:
        left = t.budget_left
        row.append(f"{left.latency_s:.1f}s ${left.dollars:.5f}"
                   if left.latency_s is not None and left.dollars is not None else "-")
    return row


def _summary_record(run: DemoRun) -> dict[str, object]:
    total = run.total
    return {"policy": run.policy, "correct": run.correct, "turns": len(run.turns),
            "latency_s": total.latency.total_s, "dollars": total.dollars, "origin": total.origin_label,
            "refused": sum(t.refused for t in run.turns), "device_share": run.share(run.device),
            "device_turns": run.device_turns, "device_correct": run.device_correct}


def _summary_table(runs: list[DemoRun]) -> Table:
    table = Table(title="summary (same questions)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("policy", "correct", "device ok", "s", "dollars", "bytes up/down", "origin"):
        table.add_column(column, justify="left" if column == "policy" else "right", no_wrap=column == "policy")
    for run in runs:
        total = run.total
        device = f"{run.device_correct}/{run.device_turns}" if run.device_turns else "-"
        table.add_row(run.policy, f"{run.correct}/{len(run.turns)}", device, f"{total.latency.total_s:.1f}",
                      f"{total.dollars:.6f}", f"{total.bytes_up}/{total.bytes_down}", total.origin_label)
    return table


def _question_table(cfg: TierlinkConfig) -> OutcomeTable:
    """Questions come from the first replay endpoint's table, else the shipped slice."""
    for name, spec in cfg.endpoints.items():
        if isinstance(spec, ReplayConfig):
            return OutcomeTable.from_path(outcome_path(spec.outcomes, f"endpoints.{name}.outcomes"))
    return OutcomeTable.from_path(outcome_path("builtin:routerarena_mcq", "demo"))
