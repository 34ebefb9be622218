"""`tierlink team run`: a team of agents on tasks, with a progress bar and a summary table."""

from __future__ import annotations

import asyncio
import json
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tierlink.cli_fail import fail
from tierlink.core.errors import ConfigError, TierlinkError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tierlink.agents.result import Task, TeamResult
    from tierlink.agents.runner import TeamSpec
    from tierlink.config.build import Deployment

team_app = typer.Typer(no_args_is_help=True, help="Multi-agent teams: debate, division of labour, hierarchy over topologies.")


# Team options shared by `team run` and `team serve-mcp`.
PatternOpt = Annotated[str, typer.Option("--pattern", help="debate | division | hierarchical")]
TopologyOpt = Annotated[str, typer.Option("--topology", help="full | star[:HUB] | chain | ring | tree[:B] | sparse[:DEGREE[:SEED]] | hybrid[:HUB[:PEERS]]")]
AgentsOpt = Annotated[int, typer.Option("--agents", min=1, max=64)]
RoundsOpt = Annotated[int, typer.Option("--rounds", min=0, max=20, help="debate: revision rounds; hierarchical: max steps")]
EndpointsOpt = Annotated[str | None, typer.Option("--endpoints", help="Comma-separated endpoint names, assigned round-robin.")]
LeadOpt = Annotated[str | None, typer.Option("--lead", help="Endpoint of the first agent (planner, supervisor or judge).")]
HistoryOpt = Annotated[str, typer.Option("--history", help="full | last_round | summary (what each edge carries)")]
JudgeOpt = Annotated[bool, typer.Option("--judge", help="debate: the first agent judges instead of a majority vote")]
CompressOpt = Annotated[int | None, typer.Option("--compress-tokens", min=1, help="Cut every message to this many tokens at the sender.")]
ConsensusOpt = Annotated[float | None, typer.Option("--consensus", help="debate: stop when this share of agents agree")]
GuardOpt = Annotated[str, typer.Option("--guard", help="off | quarantine | mark | trusted (hierarchical): injection guard on messages")]
MaxTokensOpt = Annotated[int, typer.Option("--max-tokens", min=1, help="Tokens per model call.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Deployment YAML (default: the embedded device model).")]


def _spec(console: Console, endpoints: str | None, lead: str | None, **fields: object) -> TeamSpec:
    """A validated TeamSpec, or one line naming the bad option and exit code 2."""
    from pydantic import ValidationError

    from tierlink.agents.runner import TeamSpec

    try:
        return TeamSpec(endpoints=[e.strip() for e in endpoints.split(",")] if endpoints else [], lead_endpoint=lead,
                        **fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"--{'-'.join(str(p).replace('_', '-') for p in first['loc'])}" if first["loc"] else "options"
        console.print(f"[bold red]error:[/] {where}: {first['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(code=2) from exc


def _run_on(runtime: str, address: str | None, spec: TeamSpec, deployment: Deployment, tasks: list[Task],
            on_task: Callable[[TeamResult], None]) -> list[TeamResult]:
    """The tasks on asyncio, or with every agent in a Ray actor (the cluster stopped after)."""
    from tierlink.agents.runner import run_tasks

    if runtime == "asyncio":
        return asyncio.run(run_tasks(spec, deployment, tasks, on_task))
    if runtime != "ray":
        raise ConfigError("--runtime", f"unknown runtime '{runtime}'", "use asyncio or ray")
    from tierlink.scale.ray_runtime import RayRuntime

    ray_runtime = RayRuntime(address=address)
    try:
        return asyncio.run(run_tasks(spec, deployment, tasks, on_task, placed=ray_runtime.team))
    finally:
        ray_runtime.stop()


def default_tasks() -> Path:
    """The shipped multiple-choice questions (RouterArena slice) as tasks with gold letters."""
    return Path(str(files("tierlink.data").joinpath("routerarena_mcq.csv")))


@team_app.command("run")
def run(
    pattern: PatternOpt = "debate",
    topology: TopologyOpt = "full",
    agents: AgentsOpt = 3,
    rounds: RoundsOpt = 2,
    tasks: Annotated[Path | None, typer.Option(help="CSV/JSONL with id,question[,gold] (default: shipped MCQs)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Run at most this many tasks.")] = 3,
    endpoints: EndpointsOpt = None,
    lead: LeadOpt = None,
    history: HistoryOpt = "last_round",
    judge: JudgeOpt = False,
    compress_tokens: CompressOpt = None,
    consensus: ConsensusOpt = None,
    max_tokens: MaxTokensOpt = 48,
    guard: GuardOpt = "off",
    runtime: Annotated[str, typer.Option(help="asyncio | ray: where the agents run (ray: each in an actor)")] = "asyncio",
    ray_address: Annotated[str | None, typer.Option(help="A running Ray cluster (default: a local one on 127.0.0.1).")] = None,
    config: ConfigOpt = None,
    ledger_csv: Annotated[Path | None, typer.Option(help="Write every message of every task here (CSV).")] = None,
    graph: Annotated[Path | None, typer.Option(help="Draw the traffic graph (edge width = bytes) to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per task instead of the table.")] = False,
) -> None:
    """Run a team on tasks and report accuracy (where gold is known), tokens, bytes, time, dollars."""
    from tierlink.agents.runner import agent_names, load_tasks
    from tierlink.config.build import build_deployment
    from tierlink.config.load import config_or_default

    console = Console(stderr=as_json)
    spec = _spec(console, endpoints, lead, pattern=pattern, topology=topology, agents=agents, rounds=rounds, history=history,
                 judge=judge, consensus=consensus, max_tokens=max_tokens, compress_tokens=compress_tokens, guard=guard)
    try:
        task_list = load_tasks(tasks or default_tasks(), limit)
        deployment = build_deployment(config_or_default(config))
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"{pattern} on {topology}, {agents} agents", total=len(task_list))
            results = _run_on(runtime, ray_address, spec, deployment, task_list, lambda _: progress.advance(bar))
    except TierlinkError as exc:
        fail(exc, console)
    if ledger_csv is not None:
        _write_ledgers(results, ledger_csv)
    if graph is not None and results:
        from tierlink.agents.figures import draw_traffic
        from tierlink.agents.topology import parse_topology

        shown = parse_topology(topology, agent_names(spec))
        draw_traffic((r.ledger for r in results), shown, graph, f"{pattern} over {topology}: traffic of {len(results)} task(s)")
    if as_json:
        for result in results:
            print(json.dumps(result.summary()))
        return
    _table(console, results, spec.pattern, topology)


def _write_ledgers(results: list, path: Path) -> None:  # type: ignore[type-arg]
    import csv

    from tierlink.core.ledger import Transfer

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["task", *Transfer.model_fields])
        writer.writeheader()
        for result in results:
            for transfer in result.ledger:
                writer.writerow({"task": result.task.id, **transfer.model_dump()})


def _table(console: Console, results: list, pattern: str, topology: str) -> None:  # type: ignore[type-arg]
    table = Table(title=f"{pattern} over {topology}")
    for column in ("task", "answer", "correct", "rounds", "stopped", "model tokens", "msgs", "msg tokens", "bytes", "link s", "wall s", "$"):
        table.add_column(column, overflow="fold")
    for r in results:
        s = r.summary()
        table.add_row(s["task"], str(s["answer"])[:40], "-" if s["correct"] is None else "yes" if s["correct"] else "no",
                      str(s["rounds"]), s["stopped_because"], str(s["model_tokens"]), str(s["messages"]),
                      str(s["message_tokens"]), str(s["message_bytes"]), f"{s['link_seconds']:.3f}", f"{s['wall_s']:.1f}",
                      f"{s['model_dollars']:.5f}")
    console.print(table)
    graded = [r.correct for r in results if r.correct is not None]
    accuracy = f"accuracy {sum(graded) / len(graded):.2f} on {len(graded)} graded task(s); " if graded else ""
    origins = sorted({o for r in results for u in r.usage.values() for o in u.origins})
    console.print(f"{accuracy}model numbers {'+'.join(origins) or 'none'}; message bytes measured, link time simulated. "
                  "The embedded Gemma 270M is near chance: its accuracy shows mechanics, not quality.")
    notes = [n for r in results for n in r.notes]
    if notes:
        console.print(f"[yellow]{len(notes)} note(s)[/], e.g. {notes[0]}")


@team_app.command("serve-mcp")
def serve_mcp(
    pattern: PatternOpt = "debate",
    topology: TopologyOpt = "full",
    agents: AgentsOpt = 3,
    rounds: RoundsOpt = 2,
    endpoints: EndpointsOpt = None,
    lead: LeadOpt = None,
    history: HistoryOpt = "last_round",
    judge: JudgeOpt = False,
    compress_tokens: CompressOpt = None,
    consensus: ConsensusOpt = None,
    max_tokens: MaxTokensOpt = 48,
    guard: GuardOpt = "off",
    config: ConfigOpt = None,
) -> None:
    """Serve the team over stdio as an MCP server with one tool, `team_solve` (question -> answer and costs)."""
    from tierlink.config.build import build_deployment
    from tierlink.config.load import config_or_default

    console = Console(stderr=True)  # stdout carries the MCP protocol
    spec = _spec(console, endpoints, lead, pattern=pattern, topology=topology, agents=agents, rounds=rounds, history=history,
                 judge=judge, consensus=consensus, max_tokens=max_tokens, compress_tokens=compress_tokens, guard=guard)
    try:
        from tierlink.agents.mcp_server import serve  # imports mcp: only when serving

        # a bad config or team fails here, before the protocol starts (tool errors go to the client)
        serve(spec, build_deployment(config_or_default(config)))
    except TierlinkError as exc:
        fail(exc, console)
