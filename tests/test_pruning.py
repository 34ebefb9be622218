"""Topology pruning: the edge-utility rule on hand-made runs, prune()'s ratio and keep-one-in-edge
rule, and the warm-up / prune / compare experiment with simulated and live agents."""

from __future__ import annotations

import re

import pytest

from tierlink.agents.patterns.debate import majority
from tierlink.agents.pruning import PruneReport, edge_utility, prune, prune_experiment
from tierlink.agents.result import Task, TeamResult
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology, from_edges, full
from tierlink.core.errors import ConfigError
from tierlink.core.ledger import Ledger, Transfer
from tierlink.core.messages import Completion, Request
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.node import Node

NAMES = ("a0", "a1", "a2")


def _run(answers: list[dict[str, str]], messages: list[tuple[int, str, str]], gold: str | None = "yes") -> TeamResult:
    """A finished debate as the pattern would return it: answers per round plus the ledger."""
    ledger = Ledger()
    for round_, sender, receiver in messages:
        ledger.record(Transfer(time_s=0.0, round=round_, sender=sender, receiver=receiver, link="local", tokens=2,
                               bytes=40, seconds=0.0, dollars=0.0, endpoint="e", origin="simulated"))
    return TeamResult(task=Task(id="t", question="q?", gold=gold), pattern="debate", topology="full",
                      answer=majority(answers[-1]), rounds=len(answers), stopped_because="max rounds",
                      answers=answers, ledger=ledger, wall_s=0.0)


def test_moving_toward_gold_scores_plus_one_and_toward_a_wrong_answer_minus_one() -> None:
    topology = full(NAMES)
    toward = _run([{"a0": "yes", "a1": "no", "a2": "no"}, {"a0": "yes", "a1": "yes", "a2": "no"}],
                  [(1, "a0", "a1"), (1, "a1", "a0"), (1, "a2", "a1")])
    away = _run([{"a0": "yes", "a1": "no", "a2": "yes"}, {"a0": "no", "a1": "no", "a2": "yes"}],
                [(1, "a1", "a0"), (1, "a2", "a0")])
    utility = edge_utility([toward], topology)
    assert utility[("a0", "a1")] == 1.0  # a1 took a0's gold answer
    assert utility[("a2", "a1")] == 0.0  # a1 changed, but not to a2's answer
    assert utility[("a1", "a0")] == 0.0  # a0 did not change
    assert utility[("a1", "a2")] == 0.0 and set(utility) == set(topology.edges)  # never used
    assert edge_utility([away], topology)[("a1", "a0")] == -1.0  # a0 left gold for a1's wrong answer
    both = edge_utility([toward, away, toward], topology)
    assert both[("a0", "a1")] == 1.0 and both[("a1", "a0")] == pytest.approx(-1 / 3)  # mean over its 3 messages


def test_utility_needs_the_message_and_uses_the_final_answer_without_gold() -> None:
    topology = full(NAMES)
    unsent = _run([{"a0": "yes", "a1": "no", "a2": "yes"}, {"a0": "yes", "a1": "yes", "a2": "yes"}], [(1, "a2", "a1")])
    assert edge_utility([unsent], topology)[("a0", "a1")] == 0.0  # a0's message was never sent
    assert edge_utility([unsent], topology)[("a2", "a1")] == 1.0
    letters = _run([{"a0": "\\boxed{B}", "a1": "A. because", "a2": "C)"}, {"a0": "\\boxed{B}", "a1": "answer is B", "a2": "A."}],
                   [(1, "a0", "a1"), (1, "a1", "a2")], gold="B")
    assert edge_utility([letters], topology)[("a0", "a1")] == 1.0  # letter keys, graded against gold B
    assert edge_utility([letters], topology)[("a1", "a2")] == -1.0  # a2 took a1's old, wrong letter A
    no_gold = _run([{"a0": "red", "a1": "blue", "a2": "blue"}, {"a0": "blue", "a1": "red", "a2": "blue"}],
                   [(1, "a1", "a0"), (1, "a0", "a1")], gold=None)  # final majority: blue
    utility = edge_utility([no_gold], topology)
    assert utility[("a1", "a0")] == 1.0 and utility[("a0", "a1")] == -1.0


def test_prune_removes_the_lowest_share_with_ties_by_name() -> None:
    topology = full(("a0", "a1", "a2", "a3"))
    utility = {edge: 0.0 for edge in topology.edges} | {("a3", "a0"): -1.0, ("a0", "a3"): 0.5, ("a2", "a1"): -0.5}
    pruned = prune(topology, utility, 0.5)
    assert len(pruned.edges) == 6 and pruned.kind == "full (pruned)"
    removed = set(topology.edges) - set(pruned.edges)
    assert {("a3", "a0"), ("a2", "a1")} <= removed and ("a0", "a3") in pruned.edges
    assert removed == {("a3", "a0"), ("a2", "a1"), ("a0", "a1"), ("a0", "a2"), ("a1", "a0"), ("a1", "a2")}
    assert prune(topology, utility, 0.5).edges == pruned.edges  # deterministic
    assert prune(topology, utility, 0.0).edges == topology.edges
    with pytest.raises(ConfigError):
        prune(topology, utility, 1.5)


def test_prune_keeps_each_agents_best_in_edge() -> None:
    topology = from_edges(NAMES, [("a1", "a0"), ("a0", "a1"), ("a2", "a1"), ("a0", "a2"), ("a1", "a2")])
    utility = {("a1", "a0"): -1.0, ("a0", "a1"): 0.5, ("a2", "a1"): 0.0, ("a0", "a2"): 0.1, ("a1", "a2"): 0.2}
    pruned = prune(topology, utility, 0.4)  # 2 of 5 go; a0's only in-edge is the worst but stays
    assert set(pruned.edges) == {("a1", "a0"), ("a0", "a1"), ("a1", "a2")}
    everything = prune(full(("a0", "a1", "a2", "a3")), {}, 1.0)
    assert all(len(everything.sources(n)) == 1 for n in everything.names)  # one in-edge each, never none
    lonely = from_edges(NAMES, [("a0", "a1")])  # a0 and a2 read nobody: nothing to keep for them
    assert prune(lonely, {}, 1.0).edges == (("a0", "a1"),)


def _agent(i: int, endpoint: SimulatedEndpoint) -> Agent:
    return Agent(f"a{i}", endpoint, Node(name=f"phone{i}", tier="device"))


class Copier(SimulatedEndpoint):
    """Answers `answer` until it reads `source`, then repeats what `source` said (a follower)."""

    def __init__(self, name: str, answer: str, source: str) -> None:
        super().__init__(name, endpoint_profiles()["gpt-4o-mini"], "phone", answer=answer, output_tokens=8)
        self.source = source

    async def complete(self, request: Request) -> Completion:
        completion = await super().complete(request)
        heard = re.search(rf'{self.source} said "([^"]*)"', request.last_user_text)
        return completion.model_copy(update={"text": heard.group(1)}) if heard else completion


async def test_prune_experiment_saves_tokens_and_never_uses_a_pruned_edge() -> None:
    profile = endpoint_profiles()["gpt-4o-mini"]
    fixed = [SimulatedEndpoint(f"s{i}", profile, "phone", answer=a, output_tokens=8) for i, a in ((0, "yes"), (3, "no"))]
    team = Team([_agent(0, fixed[0]), _agent(1, Copier("c1", "no", "a0")), _agent(2, Copier("c2", "maybe", "a3")),
                 _agent(3, fixed[1])])
    topology = full(team.names)
    tasks = [Task(id=f"q{i}", question=f"Question {i}: is it so? Answer yes or no.", gold="yes") for i in range(5)]
    seen: dict[str, list[TeamResult]] = {"warm-up": [], "full": [], "pruned": []}
    report = await prune_experiment(tasks[:2], tasks[2:], team, topology, ratio=0.5, rounds=2, max_tokens=8,
                                    on_task=lambda phase, result: seen[phase].append(result))
    assert isinstance(report, PruneReport) and [len(v) for v in seen.values()] == [2, 3, 3]
    assert report.utility["a0->a1"] == 0.5  # a1 took a0's gold answer in round 1 of 2
    assert report.utility["a3->a2"] == report.utility["a1->a2"] == -0.5  # a2 took the 'no' both held
    assert sum(u != 0 for u in report.utility.values()) == 3
    assert report.edges_before == 12 and report.edges_after == 6 and len(report.pruned) == 6
    assert ("a3", "a2") in report.pruned and ("a0", "a1") not in report.pruned
    assert report.messages_before == 3 * 2 * 12 and report.messages_after == 3 * 2 * 6
    assert report.message_tokens_after < report.message_tokens_before and report.tokens_saved_pct > 30
    assert report.message_bytes_after < report.message_bytes_before
    assert report.model_tokens_after < report.model_tokens_before  # readers read fewer messages
    cut = set(report.pruned)
    assert report.pruned_edge_messages == 0
    assert not any((t.sender, t.receiver) in cut for r in seen["pruned"] for t in r.ledger)
    assert all(r.topology == "full (pruned)" for r in seen["pruned"])
    # a2 no longer hears a3 or a1, so it keeps its own answer; a1 still follows a0 to the gold answer
    assert all(r.answers[-1]["a2"].startswith("no") for r in seen["full"])
    assert all(r.answers[-1]["a1"].startswith("yes") and r.answers[-1]["a2"].startswith("maybe") for r in seen["pruned"])
    assert report.graded == 3 and report.accuracy_before == report.accuracy_after == 1.0 and report.accuracy_change == 0.0
    with pytest.raises(ConfigError):
        await prune_experiment(tasks[:1], tasks[1:2], team, topology, ratio=0.5, rounds=0)


@pytest.mark.model
async def test_live_prune_experiment(gemma: LlamaCppEndpoint) -> None:
    team = Team([Agent(f"a{i}", gemma, Node(name=f"phone{i}", tier="device")) for i in range(3)])
    topology: Topology = full(team.names)
    tasks = [Task(id="sky", question="Is the sky blue on a clear day? Answer yes or no.", gold="yes"),
             Task(id="fire", question="Is fire cold? Answer yes or no.", gold="no")]
    report = await prune_experiment(tasks[:1], tasks[1:], team, topology, ratio=0.5, rounds=1, max_tokens=4)
    assert report.edges_before == 6 and report.edges_after == 3 and report.pruned_edge_messages == 0
    assert report.messages_before == 6 and report.messages_after == 3 and report.tokens_saved_pct > 0
    assert report.accuracy_before is not None and report.accuracy_after is not None
