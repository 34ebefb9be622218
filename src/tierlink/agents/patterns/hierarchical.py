"""Hierarchical: a supervisor plans step by step; each step it assigns an instruction to a worker
(structured decision, validated, one repair) or finishes with an answer; the worker returns a
structured action–observation record, sent to the supervisor and to any peer worker it has an
edge to (the hybrid topology: a cloud supervisor over device workers that talk among
themselves); a worker reads its peers' latest records before its next step.

A decision that stays invalid after its repair is rejected and the next reachable worker gets
the whole task (noted). The run ends when the supervisor finishes, at `max_steps`, or when the
stop condition says so; then the last observation is the answer if the supervisor gave none.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from tierlink.agents.calls import ask, deliver
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.stop import MaxRounds, Progress, StopCondition
from tierlink.agents.structured import ask_structured
from tierlink.agents.team import Agent, Team, lead_and_workers
from tierlink.agents.topology import Topology
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.ledger import Ledger
from tierlink.trust.injection import InjectionDetector

DECIDE = ("You supervise workers {workers} on this task: {question}\n\nSteps so far:\n{steps}\n\n"
          "Either assign the next step to a worker, or finish with the final answer.")


class Decision(BaseModel):
    """The supervisor's move each step: assign a worker an instruction, or finish with an answer."""

    action: Literal["assign", "finish"]
    worker: str | None = None
    instruction: str | None = Field(None, max_length=400)
    answer: str | None = Field(None, max_length=2000)


class StepRecord(BaseModel):
    """What a worker did and saw, as it travels back to the supervisor (with whether it arrived, and tainted)."""

    step: int
    worker: str
    action: str
    observation: str
    reached_supervisor: bool = False
    tainted: bool = False


SENT_FIELDS = {"step", "worker", "action", "observation"}  # what travels: the delivery flags are the supervisor's own


async def hierarchical(
    task: Task,
    team: Team,
    topology: Topology,
    max_steps: int = 3,
    stop: StopCondition | None = None,
    max_tokens: int = 64,
    decision_tokens: int = 96,
    constrain: bool = False,
    ledger: Ledger | None = None,
    guard: InjectionDetector | None = None,
    quarantine: bool = True,
    trusted_only: bool = False,
) -> TeamResult:
    """Supervisor assigns steps until it finishes or a stop fires; bad decisions go round-robin.
    The supervisor decides on the observations it received; with a `guard` those that read as
    injections are held back (quarantine) or marked tainted, and with `trusted_only` (a CaMeL-style
    rule) tainted ones never reach its decisions or the answer."""
    started = time.perf_counter()
    boss, workers = lead_and_workers(team, topology, "supervisor", "star or tree rooted at it")
    condition = (stop or MaxRounds(max_steps)) | MaxRounds(max_steps)
    traffic = Traffic(team, topology, ledger, guard, quarantine)
    records: list[StepRecord] = []  # every step done
    seen: list[StepRecord] = []  # the records the supervisor received and may decide on
    heard: dict[str, list[StepRecord]] = {w.name: [] for w in workers}  # peers' records each worker received
    answer: str | None = None
    reason: str | None = None
    while reason is None:
        step = len(records) + 1
        active = [w for w in workers if w.name not in traffic.quarantined]  # a quarantined worker gets no more steps
        if not active:
            reason = "every worker is quarantined"
            break
        shown = "\n".join(f"{r.step}. {r.worker} did '{r.action}' and found: {r.observation}" for r in seen) or "(none yet)"
        decision = await ask_structured(traffic, boss, DECIDE.format(workers=", ".join(w.name for w in active), question=task.question,
                                                                     steps=shown), Decision, step, decision_tokens, constrain)
        if decision is not None and decision.action == "finish" and decision.answer:
            answer, reason = decision.answer, "the supervisor finished"
            break
        worker, instruction = _assignment(decision, active, step, task, traffic.notes)
        record = await _work(traffic, boss, worker, instruction, step, task, heard, max_tokens)
        records.append(record)
        if record.reached_supervisor and not (trusted_only and record.tainted):
            seen.append(record)
        elif record.reached_supervisor:
            traffic.notes.append(f"step {step}: {worker.name}'s observation is tainted; kept out of the supervisor's decisions")
        traffic.now = time.perf_counter() - started
        reason = condition.reason(Progress.after(step, [record.observation], traffic.spent()))
    usable = seen if trusted_only else records
    final = answer if answer is not None else next((r.observation for r in reversed(usable) if r.observation), "")
    return TeamResult(task=task, pattern="hierarchical", topology=topology.kind, answer=final, rounds=len(records),
                      stopped_because=reason, answers=[{r.worker: r.observation} for r in records],
                      ledger=traffic.ledger, wall_s=time.perf_counter() - started, notes=traffic.notes)


def _assignment(decision: Decision | None, workers: list[Agent], step: int, task: Task,
                notes: list[str]) -> tuple[Agent, str]:
    """The worker and instruction of a usable decision; otherwise the next worker gets the whole task."""
    by_name = {w.name: w for w in workers}
    if decision is None or decision.worker not in by_name or not decision.instruction:
        fallback = workers[(step - 1) % len(workers)]
        if decision is not None:
            notes.append(f"step {step}: unusable decision ({decision.action}, worker {decision.worker}); "
                         f"{fallback.name} gets the whole task")
        return fallback, task.question
    return by_name[decision.worker], decision.instruction


async def _work(traffic: Traffic, boss: Agent, worker: Agent, instruction: str, step: int, task: Task,
                heard: dict[str, list[StepRecord]], max_tokens: int) -> StepRecord:
    """One step: the assignment goes out, the worker answers it, its record goes back to the
    supervisor and to any peer it has an edge to (hybrid)."""
    sent = deliver(traffic, AgentMessage(round=step, sender=boss.name, receiver=worker.name, kind="assignment",
                                         data={"step": step, "instruction": instruction}))
    peer_notes = "".join(f"\nA peer ({r.worker}) found: {r.observation}" for r in heard[worker.name][-3:])
    prompt = f"Task: {task.question}{peer_notes}\nDo this step: {instruction}"
    observation = await ask(traffic, worker, prompt, step, max_tokens) if sent else ""
    record = StepRecord(step=step, worker=worker.name, action=instruction, observation=observation)
    back = None
    if traffic.topology.has_edge(worker.name, boss.name):
        back = deliver(traffic, AgentMessage(round=step, sender=worker.name, receiver=boss.name, kind="observation",
                                             data=record.model_dump(include=SENT_FIELDS)))
    else:
        traffic.notes.append(f"{worker.name} has no edge back to {boss.name}; its observation stays with it")
    for peer in traffic.topology.readers(worker.name):
        if peer in heard and deliver(traffic, AgentMessage(round=step, sender=worker.name, receiver=peer,
                                                           kind="observation", data=record.model_dump(include=SENT_FIELDS))):
            heard[peer].append(record)
    return record.model_copy(update={"reached_supervisor": back is not None, "tainted": back is not None and back.tainted})
