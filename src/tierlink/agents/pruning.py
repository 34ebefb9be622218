"""Topology pruning in the style of AgentPrune / sparse debate: score each edge on warm-up runs,
drop the least useful ones in one shot, and measure what the pruned debate saves.

Full debate's traffic grows with the number of edges; many edges only echo answers the reader
already holds or pull it toward a wrong one. Scoring edges by what their messages did to the
reader's answer, then cutting the worst, keeps the debate while sending fewer messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tierlink.agents.history import HistoryPolicy
from tierlink.agents.patterns.debate import debate
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.team import Team
from tierlink.agents.topology import Edge, Topology
from tierlink.core.errors import ConfigError
from tierlink.core.grading import answer_key, grade
from tierlink.core.ledger import Totals


def _on_target(result: TeamResult) -> Callable[[str], bool]:
    """Whether an answer is the run's target: the gold answer (graded) when the task has one,
    else the run's final answer (same answer key)."""
    gold = result.task.gold
    if gold is not None:
        return lambda text: bool(grade(text, gold))
    final = answer_key(result.answer)
    return lambda text: bool(final) and answer_key(text) == final


def edge_utility(results: Sequence[TeamResult], topology: Topology) -> dict[Edge, float]:
    """Mean effect of each edge's messages on its reader's answer, over warm-up debate runs.

    Rule: for every run, every revision round t >= 1 and every message (s, r) of round t in the
    run's ledger, the reader r *adopted* the sender's answer when r's answer key changed from
    round t-1 to round t and now equals s's key at round t-1 (what s sent). An adoption scores
    +1 when r's new answer is on target, -1 when it is not (r moved toward the sender's wrong
    answer, away from the target, whatever r held before); anything else (no change, or a change
    to an answer s did not hold) scores 0. Every sender that held the adopted answer shares the
    credit or blame. The target is the gold answer when the task has one (checked with `grade`,
    since a bare gold letter "B" and a stated "\\boxed{B}" have different answer keys), else the
    run's final answer (same answer key). An edge's utility is its mean score over its messages; edges
    that carried no message (or are not in `topology`) score 0. Messages to agents that give no
    round answer (a judge) are not opportunities.
    """
    scores: dict[Edge, list[int]] = defaultdict(list)
    edges = set(topology.edges)
    for result in results:
        on_target = _on_target(result)
        for transfer in result.ledger:
            t, sender, receiver = transfer.round, transfer.sender, transfer.receiver
            if (sender, receiver) not in edges or not 1 <= t < len(result.answers):
                continue
            before, now = result.answers[t - 1], result.answers[t]
            if receiver not in before or receiver not in now or sender not in before:
                continue
            key_now = answer_key(now[receiver])
            adopted = bool(key_now) and key_now != answer_key(before[receiver]) and key_now == answer_key(before[sender])
            score = 0 if not adopted else 1 if on_target(now[receiver]) else -1
            scores[(sender, receiver)].append(score)
    return {edge: sum(scores[edge]) / len(scores[edge]) if scores.get(edge) else 0.0 for edge in topology.edges}


def _order(utility: dict[Edge, float]) -> Callable[[Edge], tuple[float, str, str]]:
    """Removal order: lowest utility first, ties by (sender, receiver) name."""
    return lambda edge: (utility.get(edge, 0.0), edge[0], edge[1])


def prune(topology: Topology, utility: dict[Edge, float], ratio: float) -> Topology:
    """Remove the `round(ratio * edges)` lowest-utility edges in one shot.

    Each agent that reads anyone keeps its best in-edge (highest utility, the last in removal
    order), so no agent is cut off from the debate; that protected edge is skipped and the next
    candidate removed instead, so fewer edges go only when every other edge is protected.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError("ratio", f"pruning ratio {ratio}", "use a share of edges from 0 to 1")
    order = _order(utility)
    ranked = sorted(topology.edges, key=order)
    protected = {max((e for e in ranked if e[1] == name), key=order) for name in topology.names if topology.sources(name)}
    wanted = round(ratio * len(ranked))
    return topology.without([e for e in ranked if e not in protected][:wanted])


class PruneReport(BaseModel):
    """Eval-task figures on the full and the pruned topology. Message tokens are the readers'
    tokens estimated from the sent text, bytes the measured JSON envelopes, link seconds
    simulated by the link model; model tokens and accuracy come from the endpoints' answers."""

    model_config = ConfigDict(frozen=True)

    ratio: float
    rounds: int
    agents: int
    warmup_tasks: int
    eval_tasks: int
    edges_before: int
    edges_after: int
    pruned: list[Edge]
    utility: dict[str, float]  # "sender->receiver" -> utility, every edge of the full topology
    messages_before: int
    messages_after: int
    message_tokens_before: int
    message_tokens_after: int
    message_bytes_before: int
    message_bytes_after: int
    link_seconds_before: float
    link_seconds_after: float
    model_tokens_before: int
    model_tokens_after: int
    graded: int  # eval tasks with a gold answer
    accuracy_before: float | None
    accuracy_after: float | None
    pruned_edge_messages: int  # messages over a pruned edge in the pruned runs (must be 0)

    @property
    def tokens_saved_pct(self) -> float:
        """Share of message tokens the pruned topology saves, in percent."""
        before = self.message_tokens_before
        return 100.0 * (before - self.message_tokens_after) / before if before else 0.0

    @property
    def bytes_saved_pct(self) -> float:
        """Share of message bytes (JSON envelopes) the pruned topology saves, in percent."""
        before = self.message_bytes_before
        return 100.0 * (before - self.message_bytes_after) / before if before else 0.0

    @property
    def accuracy_change(self) -> float | None:
        """Pruned minus full accuracy (negative: pruning cost accuracy); None if either is ungraded."""
        if self.accuracy_before is None or self.accuracy_after is None:
            return None
        return self.accuracy_after - self.accuracy_before


Phase = Literal["warm-up", "full", "pruned"]  # which run `on_task` is seeing


async def _run_all(tasks: Sequence[Task], team: Team, topology: Topology, phase: Phase, rounds: int,
                   history: HistoryPolicy | None, max_tokens: int,
                   on_task: Callable[[Phase, TeamResult], None] | None, temperature: float = 0.0) -> list[TeamResult]:
    """Tasks one after another (agents of a round still run concurrently inside a debate)."""
    results = []
    for task in tasks:
        result = await debate(task, team, topology, rounds=rounds, history=history, max_tokens=max_tokens,
                              temperature=temperature)
        if on_task is not None:
            on_task(phase, result)
        results.append(result)
    return results


def _traffic(results: Sequence[TeamResult]) -> Totals:
    totals = [r.ledger.total() for r in results]
    return Totals(transfers=sum(t.transfers for t in totals), tokens=sum(t.tokens for t in totals),
                  bytes=sum(t.bytes for t in totals), seconds=sum(t.seconds for t in totals),
                  calls=sum(t.calls for t in totals), dollars=sum(t.dollars for t in totals))


def _accuracy(results: Sequence[TeamResult]) -> float | None:
    graded = [r.correct for r in results if r.correct is not None]
    return sum(graded) / len(graded) if graded else None


def _model_tokens(results: Sequence[TeamResult]) -> int:
    return sum(r.total_usage.input_tokens + r.total_usage.output_tokens for r in results)


async def prune_experiment(
    tasks_warmup: Sequence[Task],
    tasks_eval: Sequence[Task],
    team: Team,
    topology: Topology,
    ratio: float,
    rounds: int = 2,
    history: HistoryPolicy | None = None,
    max_tokens: int = 64,
    on_task: Callable[[Phase, TeamResult], None] | None = None,
    temperature: float = 0.0,
) -> PruneReport:
    """Warm up on the full topology, score and prune its edges, then run the eval tasks on both
    topologies and compare traffic and accuracy. `on_task(phase, result)` sees every run."""
    if rounds < 1:
        raise ConfigError("rounds", "pruning needs at least one revision round", "use rounds >= 1")
    warm = await _run_all(tasks_warmup, team, topology, "warm-up", rounds, history, max_tokens, on_task, temperature)
    utility = edge_utility(warm, topology)
    pruned = prune(topology, utility, ratio)
    before = await _run_all(tasks_eval, team, topology, "full", rounds, history, max_tokens, on_task, temperature)
    after = await _run_all(tasks_eval, team, pruned, "pruned", rounds, history, max_tokens, on_task, temperature)
    removed = sorted(set(topology.edges) - set(pruned.edges))
    cut = set(removed)
    sent_before, sent_after = _traffic(before), _traffic(after)
    return PruneReport(
        ratio=ratio, rounds=rounds, agents=len(topology), warmup_tasks=len(tasks_warmup), eval_tasks=len(tasks_eval),
        edges_before=len(topology.edges), edges_after=len(pruned.edges), pruned=removed,
        utility={f"{s}->{r}": u for (s, r), u in utility.items()},
        messages_before=sent_before.transfers, messages_after=sent_after.transfers,
        message_tokens_before=sent_before.tokens, message_tokens_after=sent_after.tokens,
        message_bytes_before=sent_before.bytes, message_bytes_after=sent_after.bytes,
        link_seconds_before=sent_before.seconds, link_seconds_after=sent_after.seconds,
        model_tokens_before=_model_tokens(before), model_tokens_after=_model_tokens(after),
        graded=sum(r.task.gold is not None for r in before),
        accuracy_before=_accuracy(before), accuracy_after=_accuracy(after),
        pruned_edge_messages=sum((t.sender, t.receiver) in cut for r in after for t in r.ledger),
    )
