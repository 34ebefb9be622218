"""Debate over every topology with the live embedded model, the traffic ledger against the
topology, history policies, stop conditions, a judge, and faults (dead agent, cut link)."""

from __future__ import annotations

import pytest

from tierlink.agents.history import EdgeHistory, HistoryPolicy, message_for
from tierlink.agents.patterns.debate import debate
from tierlink.agents.result import Task
from tierlink.agents.stop import Consensus, DollarBudget, MaxRounds, Progress, TokenBudget
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import Topology, from_edges, full, parse_topology, star
from tierlink.agents.traffic import AgentMessage, MissingEdge, Traffic
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.availability import AvailabilityTrace
from tierlink.network.link import Link
from tierlink.network.node import Node
from tierlink.network.registry import link_profiles

from .servers.process import free_port

TASK = Task(id="sky", question="Is the sky blue on a clear day? Answer yes or no.", gold="yes")
SPECS = ("full", "star", "chain", "ring", "tree:2", "sparse:2")


def _team(endpoint_for, n: int = 4) -> Team:  # type: ignore[no-untyped-def]
    return Team([Agent(f"a{i}", endpoint_for(i), Node(name=f"phone{i}", tier="device")) for i in range(n)])


def _simulated(answer: str = "yes", tokens: int = 8):  # type: ignore[no-untyped-def]
    profile = endpoint_profiles()["gpt-4o-mini"]
    return lambda i: SimulatedEndpoint(f"sim{i}", profile, f"phone{i}", answer=answer, output_tokens=tokens)


def _check_ledger(topology: Topology, result) -> None:  # type: ignore[no-untyped-def]
    ledger = result.ledger
    assert all(topology.has_edge(t.sender, t.receiver) for t in ledger)  # nothing crosses a missing edge
    total = ledger.total()
    for groups in (ledger.by_edge(), ledger.by_round(), ledger.by_endpoint()):
        assert sum(g.transfers for g in groups.values()) == total.transfers
        assert sum(g.bytes for g in groups.values()) == total.bytes
        assert sum(g.tokens for g in groups.values()) == total.tokens
        assert abs(sum(g.seconds for g in groups.values()) - total.seconds) < 1e-9


@pytest.mark.parametrize("spec", SPECS)
async def test_live_debate_on_every_topology(spec: str, gemma: LlamaCppEndpoint) -> None:
    team = _team(lambda i: gemma)
    topology = parse_topology(spec, team.names)
    result = await debate(TASK, team, topology, rounds=1, max_tokens=4)
    assert result.rounds == 2 and result.stopped_because == "max rounds (2)" and not result.notes
    assert set(result.usage) == set(team.names) and all("live" in u.origins for u in result.usage.values())
    # round 0 has no messages; in round 1 every edge carries the sender's first answer once
    assert sorted((t.sender, t.receiver) for t in result.ledger) == sorted(topology.edges)
    assert {t.round for t in result.ledger} == {1}
    _check_ledger(topology, result)
    assert result.correct is not None  # graded against gold (the 270M model's accuracy is not meaningful)


def test_history_policies_shape_the_messages() -> None:
    answers = ["first answer here", "second answer here", "third"]
    assert message_for(answers, EdgeHistory(kind="last_round")) == "third"
    full_text = message_for(answers, EdgeHistory(kind="full"))
    assert all(a in full_text for a in answers)
    summary = message_for(["x" * 400, "y" * 400, "z"], EdgeHistory(kind="summary", summary_tokens=5))
    assert summary.count("x") <= 20 and summary.endswith("z")
    assert len(message_for(answers, EdgeHistory(kind="full", compress_tokens=3))) <= 13
    policy = HistoryPolicy(default=EdgeHistory(kind="last_round"), edges={("a0", "a1"): EdgeHistory(kind="full")})
    assert policy.for_edge("a0", "a1").kind == "full" and policy.for_edge("a1", "a0").kind == "last_round"


async def test_full_history_traffic_grows_with_rounds() -> None:
    team = _team(_simulated(), 3)
    topology = full(team.names)
    grow = await debate(TASK, team, topology, rounds=3, history=HistoryPolicy(default=EdgeHistory(kind="full")))
    flat = await debate(TASK, team, topology, rounds=3)
    grow_rounds, flat_rounds = grow.ledger.by_round(), flat.ledger.by_round()
    assert [grow_rounds[r].tokens for r in (1, 2, 3)] == sorted(grow_rounds[r].tokens for r in (1, 2, 3))
    assert grow_rounds[3].tokens > 2 * grow_rounds[1].tokens
    assert len({flat_rounds[r].tokens for r in (1, 2, 3)}) == 1
    assert grow.ledger.total().transfers == flat.ledger.total().transfers == 3 * len(topology.edges)


async def test_stop_conditions() -> None:
    team = _team(_simulated("yes"), 3)
    agreed = await debate(TASK, team, full(team.names), rounds=5, stop=Consensus())
    assert agreed.rounds == 1 and agreed.stopped_because.startswith("consensus") and len(agreed.ledger) == 0
    capped = await debate(TASK, _team(_simulated("yes"), 3), full(team.names), rounds=5, stop=TokenBudget(1))
    assert capped.rounds == 1 and capped.stopped_because.startswith("token budget")
    progress = Progress(round=2, answer_keys=("a", "a", "b"), tokens=10, dollars=0.5)
    assert (Consensus(0.6) & MaxRounds(2)).reason(progress) is not None
    assert (Consensus(0.9) & MaxRounds(2)).reason(progress) is None
    assert (Consensus(0.9) | DollarBudget(0.1)).reason(progress) is not None


async def test_judge_decides_and_needs_edges() -> None:
    profile = endpoint_profiles()["gpt-4o-mini"]
    agents = [Agent(f"a{i}", SimulatedEndpoint(f"s{i}", profile, "n", answer="no"), Node(name=f"p{i}", tier="device")) for i in range(3)]
    judge = Agent("judge", SimulatedEndpoint("j", profile, "cloud", answer="yes"), Node(name="cloud", tier="cloud"), role="judge")
    team = Team([*agents, judge])
    result = await debate(TASK, team, star(team.names, "judge"), rounds=0, aggregate="judge")
    assert result.answer.startswith("yes") and result.correct
    assert {t.receiver for t in result.ledger} == {"judge"} and len(result.ledger) == 3
    assert all(t.link.endswith("(5g)") and t.seconds > 0 for t in result.ledger)  # device -> cloud over 5G
    debaters_only = from_edges(team.names, full(team.names[:3]).edges)  # nobody reaches the judge
    lonely = await debate(TASK, team, debaters_only, rounds=0, aggregate="judge")
    assert any("judge heard no answer" in note for note in lonely.notes) and lonely.answer.startswith("no")
    with pytest.raises(Exception, match="judge"):
        await debate(TASK, _team(_simulated(), 2), full(["a0", "a1"]), aggregate="judge")


async def test_dead_agent_and_cut_link_never_fail_the_run(cloud_profile) -> None:  # type: ignore[no-untyped-def]
    dead = OpenAICompatEndpoint("dead", f"http://127.0.0.1:{free_port()}/v1", "m", cloud_profile, "cloud",
                                timeout_s=2, max_retries=0)
    endpoints = _simulated("yes")
    team = _team(lambda i: dead if i == 0 else endpoints(i), 3)
    result = await debate(TASK, team, full(team.names), rounds=1)
    assert result.rounds == 2 and any(note.startswith("a0:") for note in result.notes)
    assert result.answer.startswith("yes")
    down = Link.from_profile("cut", "phone0", "phone1", link_profiles()["wifi"], AvailabilityTrace.always_down())
    cut_team = Team(list(_team(_simulated("yes"), 3).agents), links={frozenset({"phone0", "phone1"}): down})
    cut = await debate(TASK, cut_team, full(cut_team.names), rounds=1)
    assert sum("not delivered" in n for n in cut.notes) == 2
    assert {(t.sender, t.receiver) for t in cut.ledger} == set(full(cut_team.names).edges) - {("a0", "a1"), ("a1", "a0")}


def test_traffic_refuses_a_missing_edge() -> None:
    team = _team(_simulated(), 2)
    traffic = Traffic(team, from_edges(team.names, [("a0", "a1")]))
    traffic.send(AgentMessage(round=1, sender="a0", receiver="a1", kind="answer", text="hi"))
    with pytest.raises(MissingEdge):
        traffic.send(AgentMessage(round=1, sender="a1", receiver="a0", kind="answer", text="hi"))
    record = next(iter(traffic.ledger))
    assert record.link == "phone0<->phone1 (wifi)" and record.bytes == AgentMessage(
        round=1, sender="a0", receiver="a1", kind="answer", text="hi").wire_bytes()


@pytest.mark.model
async def test_debate_runs_unchanged_on_an_openai_compatible_server(llama_server: str, cloud_profile) -> None:  # type: ignore[no-untyped-def]
    """The same pattern over real HTTP: llama-cpp-python's OpenAI-compatible server on 127.0.0.1."""
    remote = OpenAICompatEndpoint("server", llama_server, "gemma-server", cloud_profile, "cloud")
    team = Team([Agent(f"a{i}", remote, Node(name=f"cloud{i}", tier="cloud")) for i in range(3)])
    result = await debate(TASK, team, star(team.names, "a0"), rounds=1, max_tokens=4)
    assert result.rounds == 2 and not result.notes
    assert all(usage.input_tokens > 0 for usage in result.usage.values())
    assert sorted((t.sender, t.receiver) for t in result.ledger) == sorted(star(team.names, "a0").edges)
    assert all(t.link.endswith("(wired)") for t in result.ledger)  # cloud to cloud
    charges = result.ledger.charges  # one per model call: 3 agents x 2 rounds, each at the live usage's price
    assert len(charges) == 6 and {c.caller for c in charges} == set(team.names)
    assert all(c.dollars > 0 for c in charges)
    assert result.ledger.total().dollars == sum(u.dollars for u in result.usage.values())
