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
from tierlink.agents.result import Task, TeamResult, total_usage
from tierlink.agents.stop import MaxRounds, Progress, StopCondition
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.errors import ConfigError
from tierlink.core.grading import answer_key
from tierlink.core.ledger import Ledger
from tierlink.core.usage import Usage

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
) -> TeamResult:
    """`rounds` counts the revision rounds after the first answers; `stop` can end it sooner.
    With `temperature` > 0 each agent samples with its own seed, so agents sharing one model
    still answer differently (greedy copies of one model would all agree from the start)."""
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
    traffic = Traffic(team, topology, ledger)
    usage: dict[str, Usage] = {}
    notes: list[str] = []
    said: dict[str, list[str]] = {a.name: [] for a in debaters}
    per_round: list[dict[str, str]] = []
    reason: str | None = None
    while reason is None:
        round_index = len(per_round)
        prompts: dict[str, str] = {}
        for agent in debaters:
            others = []
            for source in topology.sources(agent.name):
                if source not in said or not said[source]:
                    continue
                text = message_for(said[source], history.for_edge(source, agent.name))
                message = deliver(traffic, AgentMessage(round=round_index, sender=source, receiver=agent.name,
                                                        kind="answer", text=text), notes)
                if message is not None:
                    others.append(f'{source} said "{" ".join(message.content.split())}"')
            prompts[agent.name] = REVISE.format(question=task.question, others="; ".join(others)) if others else task.question
        calls = [ask(a, prompts[a.name], max_tokens, usage, notes, (said[a.name] or [""])[-1], temperature,
                     seed=1000 * round_index + index if temperature > 0 else None)
                 for index, a in enumerate(debaters)]
        if concurrent:
            replies = await asyncio.gather(*calls)
        else:
            replies = [await call for call in calls]
        for agent, reply in zip(debaters, replies, strict=True):
            said[agent.name].append(reply)
        per_round.append({a.name: said[a.name][-1] for a in debaters})
        reason = condition.reason(Progress.after(len(per_round), per_round[-1].values(), total_usage(usage)))
        traffic.now = time.perf_counter() - started
    final = per_round[-1]
    answer = majority(final)
    if judges:
        answer = await _judge(task, judges[0], final, traffic, len(per_round), max_tokens, usage, notes) or answer
    return TeamResult(task=task, pattern="debate", topology=topology.kind, answer=answer, rounds=len(per_round),
                      stopped_because=reason, answers=per_round, usage=usage, ledger=traffic.ledger,
                      wall_s=time.perf_counter() - started, notes=notes)


async def _judge(task: Task, judge: Agent, final: dict[str, str], traffic: Traffic, round_index: int,
                 max_tokens: int, usage: dict[str, Usage], notes: list[str]) -> str:
    heard = []
    for name, text in final.items():
        if not traffic.topology.has_edge(name, judge.name):
            continue
        if deliver(traffic, AgentMessage(round=round_index, sender=name, receiver=judge.name, kind="answer", text=text), notes):
            heard.append(f"- {name}: {text}")
    if not heard:
        notes.append("the judge heard no answer (no edges to it); majority vote decides")
        return ""
    return await ask(judge, JUDGE.format(question=task.question, others="\n".join(heard)), max_tokens, usage, notes)
