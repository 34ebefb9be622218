"""Division of labour: a planner splits the task into subtasks (structured JSON, validated, one
repair), workers solve them in parallel, an aggregator merges their results.

Roles come from the team (`planner`, `worker`, `aggregator`; without an aggregator the planner
merges). Subtasks travel planner -> worker and results worker -> aggregator, only over the
topology's edges. A plan that stays invalid after its repair is rejected and every reachable
worker gets the whole task instead (noted), so the run still answers.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, Field

from tierlink.agents.calls import ask, deliver
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.structured import ask_structured
from tierlink.agents.team import Agent, Team, lead_and_workers
from tierlink.agents.topology import Topology
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.ledger import Ledger

PLAN = "Split this task into at most {n} independent subtasks, one per worker.\nTask: {question}"
WORK = "Task: {question}\nYour part: {instruction}\nAnswer your part briefly."
MERGE = "Task: {question}\n\nResults of the subtasks:\n{results}\n\nCombine them into the final answer."


class Subtask(BaseModel):
    """One subtask of the plan: the instruction a single worker gets (ids from 1)."""

    id: int = Field(ge=1)
    instruction: str = Field(min_length=1, max_length=400)


class Plan(BaseModel):
    """The planner's reply: 1 to 8 subtasks, dealt to the workers round-robin."""

    subtasks: list[Subtask] = Field(min_length=1, max_length=8)


def _roles(team: Team, topology: Topology) -> tuple[Agent, list[Agent], Agent]:
    planner, workers = lead_and_workers(team, topology, "planner", "star with the planner as hub")
    aggregators = team.by_role("aggregator")
    return planner, workers, aggregators[0] if aggregators else planner


async def division_of_labour(
    task: Task,
    team: Team,
    topology: Topology,
    max_tokens: int = 64,
    plan_tokens: int = 160,
    constrain: bool = False,
    concurrent: bool = True,
    ledger: Ledger | None = None,
) -> TeamResult:
    """Plan, work in parallel, merge; a rejected plan gives every worker the whole task."""
    started = time.perf_counter()
    planner, workers, aggregator = _roles(team, topology)
    traffic = Traffic(team, topology, ledger)
    notes = traffic.notes
    plan = await ask_structured(traffic, planner, PLAN.format(n=len(workers), question=task.question), Plan, 0,
                                plan_tokens, constrain)
    if plan is None:
        notes.append("plan rejected: every worker gets the whole task")
        plan = Plan(subtasks=[Subtask(id=i + 1, instruction=task.question) for i in range(len(workers))])
    assigned: list[tuple[Agent, Subtask]] = []
    for index, subtask in enumerate(plan.subtasks):
        worker = workers[index % len(workers)]
        if deliver(traffic, AgentMessage(round=1, sender=planner.name, receiver=worker.name, kind="subtask",
                                         data=subtask.model_dump())):
            assigned.append((worker, subtask))
    calls = [ask(traffic, w, WORK.format(question=task.question, instruction=s.instruction), 1, max_tokens)
             for w, s in assigned]
    outputs = await asyncio.gather(*calls) if concurrent else [await c for c in calls]
    traffic.now = time.perf_counter() - started
    results = []
    for (worker, subtask), output in zip(assigned, outputs, strict=True):
        if worker.name == aggregator.name:
            results.append(f"- subtask {subtask.id} ({worker.name}): {output}")
            continue
        if not topology.has_edge(worker.name, aggregator.name):
            notes.append(f"{worker.name} has no edge to the aggregator {aggregator.name}; its result is not used")
            continue
        if deliver(traffic, AgentMessage(round=2, sender=worker.name, receiver=aggregator.name, kind="result",
                                         data={"subtask": subtask.id, "result": output})):
            results.append(f"- subtask {subtask.id} ({worker.name}): {output}")
    answer = ""
    if results:
        answer = await ask(traffic, aggregator, MERGE.format(question=task.question, results="\n".join(results)), 2, max_tokens)
    else:
        notes.append("no subtask result reached the aggregator")
    return TeamResult(task=task, pattern="division", topology=topology.kind, answer=answer, rounds=3,
                      stopped_because="plan, work and merge done", answers=[{w.name: o for (w, _), o in zip(assigned, outputs, strict=True)}],
                      ledger=traffic.ledger, wall_s=time.perf_counter() - started, notes=notes)
