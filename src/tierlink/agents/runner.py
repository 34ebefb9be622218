"""Run a team described by a `TeamSpec` on tasks: what `tierlink team run` and the MCP tool call.

Agents take the configured endpoints round-robin. Each agent runs on its own node of its
endpoint's tier (six phones each running the model), so every message between agents crosses
a link and is accounted; the links between tiers are the team defaults unless configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tierlink.agents.history import EdgeHistory, HistoryPolicy
from tierlink.agents.patterns.debate import debate
from tierlink.agents.patterns.division import division_of_labour
from tierlink.agents.patterns.hierarchical import hierarchical
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.stop import Consensus, MaxRounds, StopCondition, TokenBudget
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology, parse_topology
from tierlink.config.build import Deployment
from tierlink.core.errors import ConfigError, DataError
from tierlink.core.ledger import Ledger
from tierlink.endpoints.base import unwrapped
from tierlink.network.node import Node

Pattern = Literal["debate", "division", "hierarchical"]
LEAD_ROLE = {"debate": "solver", "division": "planner", "hierarchical": "supervisor"}


class TeamSpec(BaseModel):
    """Everything that defines a team run except the tasks."""

    model_config = ConfigDict(extra="forbid")

    pattern: Pattern = "debate"
    topology: str = "full"
    agents: int = Field(3, ge=1, le=64)
    rounds: int = Field(2, ge=0, le=20, description="debate: revision rounds; hierarchical: max steps")
    endpoints: list[str] = Field(default_factory=list, description="endpoint names, round-robin; default the device")
    lead_endpoint: str | None = Field(None, description="endpoint of the first agent (planner / supervisor / judge)")
    history: Literal["full", "last_round", "summary"] = "last_round"
    compress_tokens: int | None = Field(None, gt=0)
    consensus: float | None = Field(None, gt=0, le=1, description="debate: stop when this share agrees")
    max_tokens_total: int | None = Field(None, gt=0, description="stop when model tokens reach this")
    max_tokens: int = Field(48, gt=0, description="per model call")
    judge: bool = False



def agent_names(spec: TeamSpec) -> list[str]:
    return [f"agent{index}" for index in range(spec.agents)]


def build_team(spec: TeamSpec, deployment: Deployment) -> tuple[Team, Topology]:
    names = spec.endpoints or [deployment.device]
    for name in [*names, *([spec.lead_endpoint] if spec.lead_endpoint else [])]:
        if name not in deployment.endpoints:
            raise ConfigError("endpoints", f"unknown endpoint '{name}'", f"use one of: {', '.join(deployment.endpoints)}")
    agents = []
    for index in range(spec.agents):
        name = spec.lead_endpoint if index == 0 and spec.lead_endpoint else names[index % len(names)]
        endpoint = unwrapped(deployment.endpoints[name])  # each agent runs at its own node: no device link
        tier = deployment.nodes[deployment.config.endpoints[name].node].tier
        role = LEAD_ROLE[spec.pattern] if index == 0 else "worker" if spec.pattern != "debate" else "solver"
        if spec.judge and spec.pattern == "debate" and index == 0:
            role = "judge"
        agents.append(Agent(agent_names(spec)[index], endpoint, Node(name=f"{tier}-{index}", tier=tier), role=role))
    team = Team(agents)
    return team, parse_topology(spec.topology, team.names)


def stop_condition(spec: TeamSpec) -> StopCondition | None:
    condition: StopCondition | None = None
    if spec.consensus is not None:
        condition = Consensus(spec.consensus)
    if spec.max_tokens_total is not None:
        budget = TokenBudget(spec.max_tokens_total)
        condition = budget if condition is None else condition | budget
    return condition


async def run_task(spec: TeamSpec, team: Team, topology: Topology, task: Task, ledger: Ledger | None = None) -> TeamResult:
    if spec.pattern == "debate":
        history = HistoryPolicy(default=EdgeHistory(kind=spec.history, compress_tokens=spec.compress_tokens))
        return await debate(task, team, topology, rounds=spec.rounds, history=history, stop=stop_condition(spec),
                            aggregate="judge" if spec.judge else "majority", max_tokens=spec.max_tokens, ledger=ledger)
    if spec.pattern == "division":
        return await division_of_labour(task, team, topology, max_tokens=spec.max_tokens, ledger=ledger)
    return await hierarchical(task, team, topology, max_steps=max(1, spec.rounds), stop=stop_condition(spec) or MaxRounds(max(1, spec.rounds)),
                              max_tokens=spec.max_tokens, ledger=ledger)


async def run_tasks(spec: TeamSpec, deployment: Deployment, tasks: Sequence[Task],
                    on_task: Callable[[TeamResult], None] | None = None) -> list[TeamResult]:
    """Each task with a fresh ledger (its own traffic), one after the other."""
    team, topology = build_team(spec, deployment)
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
