"""Debate: every agent answers, then for some rounds reads its in-neighbours' latest answers (as
the edge's history policy allows) and revises; a majority vote or a judge agent decides.

Agents of one round run concurrently. A failing agent keeps its previous answer (noted); a
message over a cut link is not delivered (noted); the run always returns a result.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Literal

from tierlink.agents.calls import ask, deliver
from tierlink.agents.history import HistoryPolicy, message_for
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.stop import MaxRounds, Progress, StopCondition
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.errors import ConfigError
from tierlink.core.grading import answer_key
from tierlink.core.ledger import Ledger
from tierlink.trust.injection import InjectionDetector

Aggregate = Literal["majority", "judge"]
# Others' answers inline, in quotes: a list invites a base model to continue the list instead of answering.
REVISE = "{question}\n(Other agents' answers: {others}.) Considering them, give your own answer."
JUDGE = "{question}\n\nCandidate answers:\n{others}\n\nWhich answer is correct? Give the final answer."


def majority(answers: dict[str, str]) -> str:
    """The first answer (in team order) whose key is the most common one."""
    counts = Counter(answer_key(a) for a in answers.values() if a)
    if not counts:
        return ""
    best = counts.most_common(1)[0][0]
    return next(a for a in answers.values() if a and answer_key(a) == best)


async def debate(
    task: Task,
    team: Team,
    topology: Topology,
    rounds: int = 2,
    history: HistoryPolicy | None = None,
    stop: StopCondition | None = None,
    aggregate: Aggregate = "majority",
    max_tokens: int = 64,
    concurrent: bool = True,
    ledger: Ledger | None = None,
    temperature: float = 0.0,
    guard: InjectionDetector | None = None,
    quarantine: bool = True,
) -> TeamResult:
    """`rounds` counts the revision rounds after the first answers; `stop` can end it sooner.
    With `temperature` > 0 each agent samples with its own seed, so agents sharing one model
    still answer differently (greedy copies of one model would all agree from the start). With a
    `guard`, an answer that reads as an injection is not passed on and its agent is quarantined
    (or, with `quarantine=False`, passed on marked: the ledger shows who read tainted content)."""
    started = time.perf_counter()
    history = history or HistoryPolicy()
    judges = team.by_role("judge") if aggregate == "judge" else ()
    if aggregate == "judge" and len(judges) != 1:
        raise ConfigError("aggregate", "judge aggregation needs exactly one agent with role 'judge'",
                          "give one agent role: judge, or use majority")
    debaters = [a for a in team.agents if a not in judges]
    if not debaters:
        raise ConfigError("agents", "no debaters", "add agents that are not the judge")
    condition = (stop or MaxRounds(rounds + 1)) | MaxRounds(rounds + 1)
    traffic = Traffic(team, topology, ledger, guard, quarantine)
    said: dict[str, list[str]] = {a.name: [] for a in debaters}
    per_round: list[dict[str, str]] = []
    reason: str | None = None
    while reason is None:
        round_index = len(per_round)
        prompts = {a.name: _prompt(task, a, said, traffic, history, round_index) for a in debaters}
        calls = [ask(traffic, a, prompts[a.name], round_index, max_tokens, (said[a.name] or [""])[-1], temperature,
                     seed=1000 * round_index + index if temperature > 0 else None)
                 for index, a in enumerate(debaters)]
        if concurrent:
            replies = await asyncio.gather(*calls)
        else:
            replies = [await call for call in calls]
        for agent, reply in zip(debaters, replies, strict=True):
            said[agent.name].append(reply)
        per_round.append({a.name: said[a.name][-1] for a in debaters})
        reason = condition.reason(Progress.after(len(per_round), per_round[-1].values(), traffic.spent()))
        traffic.now = time.perf_counter() - started
    final = per_round[-1]
    answer = majority(final)
    if judges:
        answer = await _judge(task, judges[0], final, traffic, len(per_round), max_tokens) or answer
    return TeamResult(task=task, pattern="debate", topology=topology.kind, answer=answer, rounds=len(per_round),
                      stopped_because=reason, answers=per_round, ledger=traffic.ledger,
                      wall_s=time.perf_counter() - started, notes=traffic.notes)


def _prompt(task: Task, agent: Agent, said: dict[str, list[str]], traffic: Traffic, history: HistoryPolicy,
            round_index: int) -> str:
    """What `agent` is asked this round: the question, with what its sources said (sent as messages)."""
    others = []
    for source in traffic.topology.sources(agent.name):
        if source not in said or not said[source]:
            continue
        text = message_for(said[source], history.for_edge(source, agent.name))
        message = deliver(traffic, AgentMessage(round=round_index, sender=source, receiver=agent.name,
                                                kind="answer", text=text))
        if message is not None:
            others.append(f'{source} said "{" ".join(message.content.split())}"')
    return REVISE.format(question=task.question, others="; ".join(others)) if others else task.question


async def _judge(task: Task, judge: Agent, final: dict[str, str], traffic: Traffic, round_index: int,
                 max_tokens: int) -> str:
    heard = []
    for name, text in final.items():
        if not traffic.topology.has_edge(name, judge.name):
            continue
        if deliver(traffic, AgentMessage(round=round_index, sender=name, receiver=judge.name, kind="answer", text=text)):
            heard.append(f"- {name}: {text}")
    if not heard:
        traffic.notes.append("the judge heard no answer (no edges to it); majority vote decides")
        return ""
    return await ask(traffic, judge, JUDGE.format(question=task.question, others="\n".join(heard)), round_index, max_tokens)
