"""Team patterns by name: one `Pattern` signature, one registry, so a new pattern is one entry
(no if-chain in the runner) and an unknown name is an error that lists the known ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierlink.agents.history import EdgeHistory, HistoryPolicy
from tierlink.agents.patterns.debate import debate
from tierlink.agents.patterns.division import division_of_labour
from tierlink.agents.patterns.hierarchical import hierarchical
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.stop import Consensus, MaxRounds, StopCondition, TokenBudget
from tierlink.agents.team import Team
from tierlink.agents.topology import Topology
from tierlink.core.ledger import Ledger
from tierlink.endpoints.registry import Registry

if TYPE_CHECKING:
    from tierlink.agents.spec import TeamSpec

# the one signature every pattern is run through
PatternRun = Callable[[Task, Team, Topology, "TeamSpec", Ledger | None], Awaitable[TeamResult]]


@dataclass(frozen=True)
class Pattern:
    """A team pattern: how to run it from a TeamSpec, and the role of its first agent."""

    name: str
    lead_role: str
    run: PatternRun
    summary: str


def stop_condition(spec: TeamSpec) -> StopCondition | None:
    """The spec's early stops (consensus, a token budget), combined."""
    condition: StopCondition | None = None
    if spec.consensus is not None:
        condition = Consensus(spec.consensus)
    if spec.max_tokens_total is not None:
        budget = TokenBudget(spec.max_tokens_total)
        condition = budget if condition is None else condition | budget
    return condition


async def _debate(task: Task, team: Team, topology: Topology, spec: TeamSpec, ledger: Ledger | None) -> TeamResult:
    history = HistoryPolicy(default=EdgeHistory(kind=spec.history, compress_tokens=spec.compress_tokens))
    return await debate(task, team, topology, rounds=spec.rounds, history=history, stop=stop_condition(spec),
                        aggregate="judge" if spec.judge else "majority", max_tokens=spec.max_tokens, ledger=ledger,
                        guard=spec.detector(), quarantine=spec.guard == "quarantine")


async def _division(task: Task, team: Team, topology: Topology, spec: TeamSpec, ledger: Ledger | None) -> TeamResult:
    return await division_of_labour(task, team, topology, max_tokens=spec.max_tokens, ledger=ledger)


async def _hierarchical(task: Task, team: Team, topology: Topology, spec: TeamSpec, ledger: Ledger | None) -> TeamResult:
    steps = max(1, spec.rounds)
    return await hierarchical(task, team, topology, max_steps=steps, stop=stop_condition(spec) or MaxRounds(steps),
                              max_tokens=spec.max_tokens, ledger=ledger, guard=spec.detector(),
                              quarantine=spec.guard == "quarantine", trusted_only=spec.guard == "trusted")


def team_patterns() -> Registry[Pattern]:
    """Every team pattern tierlink runs, by name."""
    return Registry("team pattern", {p.name: p for p in (
        Pattern("debate", "solver", _debate, "agents answer, read their neighbours, revise; majority or a judge"),
        Pattern("division", "planner", _division, "a planner splits the task, workers solve parts, one merges"),
        Pattern("hierarchical", "supervisor", _hierarchical, "a supervisor assigns steps to workers until done"),
    )})
