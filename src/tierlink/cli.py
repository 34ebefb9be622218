"""Command line: thin synchronous wrappers over the async library (typer + rich)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tierlink.cli_bench import bench_app
from tierlink.cli_demo import demo
from tierlink.cli_fail import fail
from tierlink.cli_models import models_app
from tierlink.cli_route import route_app
from tierlink.cli_serve import keys_app, serve_command
from tierlink.cli_swarm import swarm
from tierlink.cli_team import team_app
from tierlink.config.build import Deployment, build_deployment, resolve_profile
from tierlink.config.load import config_or_default
from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Completion, Request
from tierlink.core.usage import Usage
from tierlink.endpoints.base import collect
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.registry import link_profiles

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="tierlink: LLMs on devices, edge boxes and clouds collaborating under compute, network and "
    "money limits. Start with `tierlink demo`.",
)
app.add_typer(bench_app, name="bench")
app.add_typer(route_app, name="route")
app.add_typer(team_app, name="team")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.command("demo")(demo)
app.command("serve")(serve_command)
app.command("swarm")(swarm)
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML deployment file; default: embedded.")
]
ORIGIN_LEGEND = (
    "live = a real model ran here; replay = recorded outputs of a real model (RouterArena); "
    "simulated = computed from a profile (link times, energy, missing latencies)."
)


def main() -> None:
    """The `tierlink` console-script entry point."""
    app()


@app.command()
def endpoints(
    config: ConfigOption = None,
    check: Annotated[bool, typer.Option(help="Check that HTTP endpoints are reachable.")] = False,
) -> None:
    """List the configured endpoints with their profiles."""
    console = Console()
    try:
        cfg = config_or_default(config, check)
    except TierlinkError as exc:
        fail(exc, console)
    table = Table(title="endpoints")
    for column in ("endpoint", "node/tier/zone", "profile", "ctx", "$/Mtok in/out", "tok/s", "TTFT s", "W"):
        table.add_column(column)
    for name, spec in cfg.endpoints.items():
        p = resolve_profile(name, spec)
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
        deployment = build_deployment(config_or_default(config))
        name = endpoint or deployment.device
        if name not in deployment.endpoints:
            raise TierlinkError(f"unknown endpoint '{name}'; known: {', '.join(deployment.endpoints)}")
        request = Request.of(prompt, max_tokens=max_tokens)
        completion = asyncio.run(_ask_once(deployment, name, request, echo))
    except TierlinkError as exc:
        fail(exc, console)
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
        return await collect(endpoint.stream(request), on_text=echo)
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


if __name__ == "__main__":
    main()
