"""`tierlink swarm`: a simulated swarm on the virtual clock (scale/swarm.py), round by round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tierlink.cli_fail import fail
from tierlink.core.errors import TierlinkError


def swarm(
    agents: Annotated[int, typer.Option(min=2, max=100_000, help="Device agents in the swarm.")] = 1000,
    rounds: Annotated[int, typer.Option(min=1, max=1000, help="Debate rounds after the first answers.")] = 10,
    topology: Annotated[str, typer.Option(help="sparse:K | ring | star | tree:B | full | hybrid...")] = "sparse:4",
    history: Annotated[str, typer.Option(help="last_round | full: what each message carries")] = "last_round",
    loss: Annotated[float, typer.Option(min=0, max=0.99, help="Share of messages lost in the network.")] = 0.0,
    link: Annotated[str, typer.Option(help="Every agent's access link profile.")] = "4g",
    outages_per_hour: Annotated[float, typer.Option(min=0, help="Link gaps per agent-hour (Poisson).")] = 0.0,
    mean_outage_s: Annotated[float, typer.Option(min=0.001, help="Mean gap length, seconds.")] = 30.0,
    question: Annotated[int, typer.Option(min=0, help="Which recorded GSM8K question (index).")] = 0,
    seed: Annotated[int, typer.Option(help="Seeds topology, loss, outages and ties.")] = 0,
    data_root: Annotated[Path | None, typer.Option(help="Folder with the full outcome sets (default: shipped slice).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per round instead of the table.")] = False,
) -> None:
    """Simulate a swarm of device agents debating one recorded question over lossy links (simulated)."""
    from pydantic import ValidationError

    from tierlink.scale.recorded_agents import RecordedAgents
    from tierlink.scale.swarm import SwarmConfig, run_swarm

    console = Console(stderr=as_json)
    try:
        config = SwarmConfig(agents=agents, rounds=rounds, topology=topology, history=history, loss=loss, link=link,  # type: ignore[arg-type]
                             outages_per_hour=outages_per_hour, mean_outage_s=mean_outage_s, seed=seed)
        result = run_swarm(config, RecordedAgents.load(data_root=data_root), question)
    except ValidationError as exc:
        first = exc.errors()[0]
        console.print(f"[bold red]error:[/] --{'-'.join(str(p) for p in first['loc']).replace('_', '-')}: {first['msg']}")
        raise typer.Exit(code=2) from exc
    except TierlinkError as exc:
        fail(exc, console)
    if as_json:
        for stats in result.rounds:
            print(json.dumps(stats.__dict__))
        return
    table = Table("round", "agree", "correct", "sent", "delivered", "lost", "late", "held", "reconciled", "offline", "KB", "s")
    for r in result.rounds:
        table.add_row(str(r.round), f"{r.agreement:.2f}", f"{r.correct:.2f}", str(r.sent), str(r.delivered), str(r.lost),
                      str(r.late), str(r.held), str(r.reconciled), str(r.offline), f"{r.bytes / 1000:.0f}", f"{r.virtual_s:.1f}")
    console.print(table)
    reached = result.consensus_round
    console.print(f"{agents} agents on {topology} over {link}: consensus {'in round ' + str(reached) if reached is not None else 'not reached'}; "
                  f"{result.offline_share:.1%} of agent-rounds lost to outages; ledger {len(result.ledger)} messages, "
                  f"{result.ledger.total().bytes / 1e6:.1f} MB; {result.virtual_s:.0f} s simulated in {result.wall_s:.2f} s")
    console.print("[dim]simulated: answers replayed from ZeroEval GSM8K, revision by plurality, link times from the profile[/]")
