"""`tierlink serve` (the OpenAI-compatible gateway) and `tierlink keys create|list|revoke`."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tierlink.cli_fail import fail
from tierlink.config.load import config_or_default
from tierlink.config.schema import TierlinkConfig
from tierlink.core.errors import ConfigError, TierlinkError

keys_app = typer.Typer(no_args_is_help=True, help="API keys of the gateway (stored hashed in its SQLite file).")
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="YAML deployment file; default: embedded.")]
DatabaseOption = Annotated[Path | None, typer.Option("--database", help="Gateway SQLite file (default: serve.database).")]


def _fail(exc: TierlinkError) -> None:
    fail(exc, Console(stderr=True, soft_wrap=True))


def _settings(config: Path | None, host: str | None = None, port: int | None = None,
              database: Path | None = None) -> TierlinkConfig:
    loaded = config_or_default(config)
    overrides = {k: v for k, v in {"host": host, "port": port, "database": database}.items() if v is not None}
    return loaded.model_copy(update={"serve": loaded.serve.model_copy(update=overrides)}) if overrides else loaded


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: serve.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: serve.port, 8000).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Run the OpenAI-compatible gateway: point any OpenAI client at http://HOST:PORT/v1."""
    import uvicorn

    from tierlink.serve.app import create_app
    from tierlink.serve.gateway import Gateway
    from tierlink.serve.store import Store

    console = Console(stderr=True)
    try:
        settings = _settings(config, host, port, database)
        serve = settings.serve
        store = Store(serve.database)
        keyed = store.has_active_keys()
        if not keyed and not _loopback(serve.host):
            store.close()
            raise ConfigError("serve.host", f"no API key is configured, so the gateway listens only on 127.0.0.1 (asked: {serve.host})",
                              f"create a key with `tierlink keys create --name NAME --database {serve.database}`, or use --host 127.0.0.1")
        gateway = Gateway(settings, store, require_keys=keyed)
    except TierlinkError as exc:
        _fail(exc)
    if keyed:
        console.print("API keys are required (Authorization: Bearer <key>).")
    else:
        console.print("[yellow]no API key configured:[/] listening on 127.0.0.1 only; anyone on this machine can call it "
                      "(create keys with `tierlink keys create`).")
    console.print(f"tierlink gateway on http://{serve.host}:{serve.port}/v1 — models: {', '.join(gateway.models())}; "
                  f"fallback chain: {' -> '.join(gateway.fallback)}; state in {serve.database}")
    server = uvicorn.Server(uvicorn.Config(create_app(gateway), host=serve.host, port=serve.port, log_level="warning",
                                           timeout_graceful_shutdown=serve.drain_timeout_s))  # type: ignore[arg-type]
    try:
        server.run()
    finally:
        store.close()


def _store(config: Path | None, database: Path | None):  # type: ignore[no-untyped-def]
    from tierlink.serve.store import Store

    return Store(database or _settings(config).serve.database)


def _zones(config: Path | None, zones: str) -> tuple[str, ...]:
    """The --zones list, each checked against the zones the configuration's nodes are in."""
    named = tuple(zone.strip() for zone in zones.split(",") if zone.strip())
    known = {node.zone or node.tier for node in config_or_default(config).nodes.values()}
    unknown = [zone for zone in named if zone not in known]
    if unknown:
        raise ConfigError("--zones", f"no node is in zone(s) {', '.join(unknown)}", f"use zones of the configuration: {', '.join(sorted(known))}")
    return named


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")],
    dollars: Annotated[float | None, typer.Option(min=0, help="Total dollars the key may spend (default: unlimited).")] = None,
    rpm: Annotated[int | None, typer.Option(min=1, help="Requests per minute (default: unlimited).")] = None,
    private: Annotated[bool, typer.Option(help="Every request of this key stays in the device's privacy zones.")] = False,
    zones: Annotated[str, typer.Option(help="Comma-separated privacy zones this key's requests may reach (default: any).")] = "",
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a key and print its secret (shown once; only its hash is stored)."""
    try:
        store = _store(config, database)
        secret, record = store.create_key(name, dollars, rpm, private, _zones(config, zones))
        store.close()
    except TierlinkError as exc:
        _fail(exc)
    Console(stderr=True).print(f"created key '{record.name}' (id {record.key_id}); keep the secret, it is not shown again:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """Keys with their limits and spend (never the secrets)."""
    try:
        store = _store(config, database)
        keys = store.keys()
        store.close()
    except TierlinkError as exc:
        _fail(exc)
    table = Table("name", "id", "starts with", "created", "status", "dollars limit", "spent", "requests/min", "private", "zones")
    for key, spent in keys:
        table.add_row(key.name, key.key_id, key.hint + "…", datetime.fromtimestamp(key.created).strftime("%Y-%m-%d %H:%M"),
                      "revoked" if key.revoked else "active", "-" if key.dollars_limit is None else f"${key.dollars_limit:.4f}",
                      f"${spent:.6f}", "-" if key.requests_per_minute is None else str(key.requests_per_minute),
                      "yes" if key.private else "", ",".join(key.zones) or "any")
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="Key name or id.")], config: ConfigOption = None,
                database: DatabaseOption = None) -> None:
    """Revoke a key: it is refused from the next request on."""
    try:
        store = _store(config, database)
        record = store.revoke(name)
        store.close()
    except TierlinkError as exc:
        _fail(exc)
    Console().print(f"revoked key '{record.name}' (id {record.key_id})")
