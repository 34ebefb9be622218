"""Command line: thin synchronous wrappers over the async library (typer + rich)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tierlink.cli_bench import bench_app
from tierlink.config.build import Deployment, build_deployment, resolve_profile
from tierlink.config.load import default_config, load_config, outcome_path
from tierlink.config.schema import ReplayConfig, TierlinkConfig
from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Usage
from tierlink.demo import DemoTurn, TierAnswer, pick_questions, run_demo
from tierlink.endpoints.outcome_table import Outcome, OutcomeTable
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.registry import link_profiles

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
app.add_typer(bench_app, name="bench")
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML deployment file; default: embedded.")
]
ORIGIN_LEGEND = (
    "live = a real model ran here; replay = recorded outputs of a real model (RouterArena); "
    "simulated = computed from a profile (link times, energy, missing latencies)."
)


def main() -> None:
    app()


def _config(path: Path | None, check: bool = False) -> TierlinkConfig:
    return load_config(path, check_endpoints=check) if path else default_config()


def _fail(console: Console, exc: TierlinkError) -> None:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


@app.command()
def endpoints(
    config: ConfigOption = None,
    check: Annotated[bool, typer.Option(help="Check that HTTP endpoints are reachable.")] = False,
) -> None:
    """List the configured endpoints with their profiles."""
    console = Console()
    try:
        cfg = _config(config, check)
    except TierlinkError as exc:
        _fail(console, exc)
    table = Table(title="endpoints")
    for column in ("endpoint", "node/tier/zone", "profile", "ctx", "$/Mtok in/out", "tok/s", "TTFT s", "W"):
        table.add_column(column)
    for name, spec in cfg.endpoints.items():
        p = resolve_profile(name, spec.profile)
        table.add_row(
            f"{name}\n[dim]{spec.kind}[/]", f"{spec.node}/{p.tier}/{p.privacy_zone}", p.name,
            str(p.context_window), f"{p.price_in_per_mtok:g}/{p.price_out_per_mtok:g}",
            f"{p.decode_tokens_per_s:g}", f"{p.ttft_s:g}", f"{p.power_w:g}",
        )
    console.print(table)
    console.print("[dim]Profile figures are sourced planning numbers (simulated), see profiles.yaml.[/]")


@app.command()
def profiles(
    links: Annotated[bool, typer.Option("--links", help="List link profiles instead.")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Show each entry's source.")] = False,
) -> None:
    """List the built-in, sourced profiles of devices, edge servers, cloud models (or links)."""
    console = Console()
    if links:
        table = Table(title="link profiles (sourced planning figures)")
        for column in ("name", "up Mbit/s", "down Mbit/s", "RTT ms", "loss"):
            table.add_column(column)
        if sources:
            table.add_column("source", overflow="fold")
        for lp in link_profiles().values():
            row = [lp.name, f"{lp.up_mbps:g}", f"{lp.down_mbps:g}", f"{lp.rtt_ms:g}", f"{lp.loss:g}"]
            table.add_row(*row, *([lp.source] if sources else []))
    else:
        table = Table(title="endpoint profiles (sourced planning figures)")
        table.add_column("name", min_width=24, overflow="fold")
        for column in ("tier", "ctx", "$/Mtok in/out", "tok/s", "TTFT s", "W", "GB"):
            table.add_column(column)
        if sources:
            table.add_column("source", overflow="fold")
        for p in endpoint_profiles().values():
            row = [
                p.name, p.tier, str(p.context_window), f"{p.price_in_per_mtok:g}/{p.price_out_per_mtok:g}",
                f"{p.decode_tokens_per_s:g}", f"{p.ttft_s:g}", f"{p.power_w:g}",
                "-" if p.memory_gb is None else f"{p.memory_gb:g}",
            ]
            table.add_row(*row, *([p.source] if sources else []))
    console.print(table)


@app.command()
def ask(
    prompt: Annotated[str, typer.Argument(help="The question.")],
    endpoint: Annotated[str | None, typer.Option("--endpoint", "-e", help="Endpoint name; default: the device.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 128,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the completion as JSON.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it is generated.")] = False,
) -> None:
    """Send one request to one endpoint and print the answer, usage and where numbers came from."""
    console = Console()
    echo = (lambda text: console.print(text, end="", markup=False, highlight=False)) if stream and not as_json else None
    try:
        deployment = build_deployment(_config(config))
        name = endpoint or deployment.device
        if name not in deployment.endpoints:
            raise TierlinkError(f"unknown endpoint '{name}'; known: {', '.join(deployment.endpoints)}")
        request = Request.of(prompt, max_tokens=max_tokens)
        completion = asyncio.run(_ask_once(deployment, name, request, echo))
    except TierlinkError as exc:
        _fail(console, exc)
    if as_json:
        typer.echo(completion.model_dump_json(indent=2))
        return
    if echo is None:
        console.print(f"[bold]{completion.endpoint}[/] ({completion.model}, {completion.origin}):")
        console.print(completion.text or "[dim](empty answer)[/]")
    else:
        console.print(f"\n[dim]({completion.endpoint}, {completion.model}, {completion.origin})[/]")
    console.print(_usage_table(completion.usage))
    for note in completion.notes:
        console.print(f"[dim]note: {note}[/]")


async def _ask_once(
    deployment: Deployment, name: str, request: Request, echo: Callable[[str], None] | None
) -> Completion:
    endpoint = deployment.endpoints[name]
    try:
        if echo is None:
            return await endpoint.complete(request)
        final: Completion | None = None
        async for chunk in endpoint.stream(request):
            echo(chunk.text)
            final = chunk.completion or final
        if final is None:
            raise TierlinkError(f"endpoint '{name}' ended its stream without an answer")
        return final
    finally:
        await deployment.aclose()


def _usage_table(usage: Usage) -> Table:
    table = Table(title=f"usage (origin: {usage.origin_label})", show_header=True)
    for column in ("in tok", "out tok", "cached", "bytes up", "bytes down", "network s", "queue s", "prefill s", "decode s", "$", "J"):
        table.add_column(column, justify="right")
    lat = usage.latency
    table.add_row(
        str(usage.input_tokens), str(usage.output_tokens), str(usage.cached_tokens),
        str(usage.bytes_up), str(usage.bytes_down), f"{lat.network_s:.3f}", f"{lat.queue_s:.3f}",
        f"{lat.prefill_s:.3f}", f"{lat.decode_s:.3f}", f"{usage.dollars:.6f}", f"{usage.joules:.2f}",
    )
    return table


@app.command()
def demo(
    turns: Annotated[int, typer.Option(min=1, max=200, help="Number of benchmark questions.")] = 6,
    seed: Annotated[int, typer.Option(help="Which questions (deterministic).")] = 0,
    config: ConfigOption = None,
    cloud: Annotated[str | None, typer.Option(help="Cloud endpoint name; default: first non-device one.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print turns as JSON lines.")] = False,
) -> None:
    """Answer real benchmark questions with the device (live) and the cloud; compare per turn."""
    console = Console(stderr=as_json)
    try:
        cfg = _config(config)
        deployment = build_deployment(cfg)
        cloud_name = cloud or next(n for n in deployment.endpoints if n != deployment.device)
        if cloud_name not in deployment.endpoints:
            raise TierlinkError(f"unknown cloud endpoint '{cloud_name}'")
        questions = pick_questions(_question_table(cfg), turns, seed)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("asking both tiers", total=len(questions))
            result = asyncio.run(
                _demo(deployment, questions, cloud_name, lambda _: progress.advance(task))
            )
    except StopIteration:
        _fail(console, TierlinkError("the configuration has no cloud endpoint besides the device"))
    except TierlinkError as exc:
        _fail(console, exc)
    if as_json:
        for turn in result:
            typer.echo(turn.model_dump_json())
        return
    console.print(_demo_table(result, deployment.device, cloud_name))
    console.print(_totals_table(result))
    console.print(f"[dim]{ORIGIN_LEGEND}[/]")


def _question_table(cfg: TierlinkConfig) -> OutcomeTable:
    """Questions come from the first replay endpoint's table, else the shipped slice."""
    for name, spec in cfg.endpoints.items():
        if isinstance(spec, ReplayConfig):
            return OutcomeTable.from_path(outcome_path(spec.outcomes, f"endpoints.{name}.outcomes"))
    return OutcomeTable.from_path(outcome_path("builtin:routerarena_mcq", "demo"))


async def _demo(
    deployment: Deployment,
    questions: list[Outcome],
    cloud: str,
    on_turn: Callable[[DemoTurn], None],
) -> list[DemoTurn]:
    try:
        return await run_demo(deployment, questions, cloud, on_turn)
    finally:
        await deployment.aclose()


def _demo_table(turns: list[DemoTurn], device: str, cloud: str) -> Table:
    table = Table(title=f"tierlink demo: {len(turns)} benchmark questions, each asked of both tiers")
    for column, justify in (("#", "right"), ("task", "left"), ("gold", "center")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column(f"device: {device}\nans ok  latency  tokens in/out", justify="right")
    table.add_column(f"cloud: {cloud}\nans ok  latency  dollars", justify="right")
    for turn in turns:
        table.add_row(
            str(turn.turn), turn.task[:22], turn.gold, _cell(turn.device, False), _cell(turn.cloud, True)
        )
    return table


def _cell(answer: TierAnswer, money: bool) -> str:
    if answer.usage is None:
        return f"[red]{(answer.error or 'error')[:40]}[/]"
    u = answer.usage
    mark = "[green]✓[/]" if answer.correct else "[red]✗[/]"
    tail = f"${u.dollars:.6f}" if money else f"{u.input_tokens}/{u.output_tokens}"
    return f"{answer.choice or '?'}  {mark}  {u.latency.total_s:6.2f}s  {tail}"


def _totals_table(turns: list[DemoTurn]) -> Table:
    table = Table(title="totals")
    for column in ("tier", "endpoint", "correct", "latency s", "network s", "tokens in/out", "bytes up/down", "dollars", "joules"):
        table.add_column(column, justify="right")
    table.add_column("origin", min_width=15)
    for tier in ("device", "cloud"):
        answers: list[TierAnswer] = [getattr(t, tier) for t in turns]
        answered = [a.usage for a in answers if a.usage is not None]
        correct = sum(1 for a in answers if a.correct)
        if not answered:
            table.add_row(tier, answers[0].endpoint, f"0/{len(answers)}", *["-"] * 7)
            continue
        total = sum(answered[1:], answered[0])
        table.add_row(
            tier, answers[0].endpoint, f"{correct}/{len(answers)}", f"{total.latency.total_s:.2f}",
            f"{total.latency.network_s:.2f}", f"{total.input_tokens}/{total.output_tokens}",
            f"{total.bytes_up}/{total.bytes_down}", f"{total.dollars:.6f}", f"{total.joules:.1f}",
            total.origin_label,
        )
    return table


if __name__ == "__main__":
    main()
