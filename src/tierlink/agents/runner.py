"""Run a team described by a `TeamSpec` on tasks: what `tierlink team run` and the MCP tool call.

Agents take the configured endpoints round-robin. Each agent runs on its own node of its
endpoint's tier (six phones each running the model), so every message between agents crosses
a link and is accounted; the links between tiers are the team defaults unless configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from tierlink.agents.patterns.registry import team_patterns
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.spec import TeamSpec
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology, parse_topology
from tierlink.config.build import Deployment
from tierlink.core.errors import ConfigError, DataError
from tierlink.core.ledger import Ledger
from tierlink.endpoints.base import unwrapped
from tierlink.network.node import Node

__all__ = ["TeamSpec", "agent_names", "build_team", "load_tasks", "run_task", "run_tasks"]


def agent_names(spec: TeamSpec) -> list[str]:
    """The names agents get, in team order (agent0 takes the pattern's lead role)."""
    return [f"agent{index}" for index in range(spec.agents)]


def build_team(spec: TeamSpec, deployment: Deployment) -> tuple[Team, Topology]:
    """Agents on the spec's endpoints round-robin, each on its own node, and the parsed topology."""
    names = spec.endpoints or [deployment.device]
    for name in [*names, *([spec.lead_endpoint] if spec.lead_endpoint else [])]:
        if name not in deployment.endpoints:
            raise ConfigError("endpoints", f"unknown endpoint '{name}'", f"use one of: {', '.join(deployment.endpoints)}")
    agents = []
    for index in range(spec.agents):
        name = spec.lead_endpoint if index == 0 and spec.lead_endpoint else names[index % len(names)]
        endpoint = unwrapped(deployment.endpoints[name])  # each agent runs at its own node: no device link
        tier = deployment.nodes[deployment.config.endpoints[name].node].tier
        role = team_patterns()[spec.pattern].lead_role if index == 0 else "worker" if spec.pattern != "debate" else "solver"
        if spec.judge and spec.pattern == "debate" and index == 0:
            role = "judge"
        agents.append(Agent(agent_names(spec)[index], endpoint, Node(name=f"{tier}-{index}", tier=tier), role=role))
    team = Team(agents)
    return team, parse_topology(spec.topology, team.names)


async def run_task(spec: TeamSpec, team: Team, topology: Topology, task: Task, ledger: Ledger | None = None) -> TeamResult:
    """One task by the spec's pattern, looked up in the pattern registry."""
    return await team_patterns().require(spec.pattern, "pattern").run(task, team, topology, spec, ledger)


async def run_tasks(spec: TeamSpec, deployment: Deployment, tasks: Sequence[Task],
                    on_task: Callable[[TeamResult], None] | None = None,
                    placed: Callable[[Team], Team] | None = None) -> list[TeamResult]:
    """Each task with a fresh ledger (its own traffic), one after the other; `placed` moves the
    team elsewhere first (scale.ray_runtime.RayRuntime.team: every agent in a Ray actor)."""
    team, topology = build_team(spec, deployment)
    if placed is not None:
        team = placed(team)
    results = []
    for task in tasks:
        result = await run_task(spec, team, topology, task)
        results.append(result)
        if on_task is not None:
            on_task(result)
    return results


def load_tasks(path: Path, limit: int | None = None) -> list[Task]:
    """Tasks from CSV or JSONL with id (or prompt_id), question (or prompt) and optional gold."""
    if not path.is_file():
        raise DataError(str(path), "tasks file does not exist", "give a CSV or JSONL with id,question[,gold]")
    if path.suffix.lower() in (".jsonl", ".json"):
        frame = pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"prompt_id": "id", "prompt": "question"})
    missing = {"id", "question"} - set(frame.columns)
    if missing:
        raise DataError(str(path), f"missing column(s) {', '.join(sorted(missing))}", "give id,question[,gold] (or prompt_id,prompt)")
    frame = frame.drop_duplicates("id")
    if limit is not None:
        frame = frame.head(limit)
    return [Task(id=str(r["id"]), question=str(r["question"]), gold=str(r["gold"]) if r.get("gold") not in (None, "") else None)
            for r in frame.to_dict("records")]
