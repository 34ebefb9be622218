"""Division of labour and hierarchical teams: live on every topology with the embedded model,
structured output repaired or rejected (against a real scripted server), roles checked."""

from __future__ import annotations

import pytest

from tierlink.agents.patterns.division import division_of_labour
from tierlink.agents.patterns.hierarchical import hierarchical
from tierlink.agents.result import Task
from tierlink.agents.team import Agent, Team
from tierlink.agents.topology import parse_topology, star
from tierlink.core.errors import ConfigError
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.simulated import SimulatedEndpoint
from tierlink.network.node import Node

from .test_debate import SPECS, _check_ledger

TASK = Task(id="sky", question="Is the sky blue on a clear day? Answer yes or no.", gold="yes")


def _live_team(gemma: LlamaCppEndpoint, lead: str) -> Team:
    roles = [lead, "worker", "worker", "worker"]
    return Team([Agent(f"a{i}", gemma, Node(name=f"phone{i}", tier="device"), role=r) for i, r in enumerate(roles)])


@pytest.mark.parametrize("spec", SPECS)
async def test_live_division_of_labour_on_every_topology(spec: str, gemma: LlamaCppEndpoint) -> None:
    team = _live_team(gemma, "planner")
    topology = parse_topology(spec, team.names)
    result = await division_of_labour(TASK, team, topology, max_tokens=8, plan_tokens=48)
    _check_ledger(topology, result)
    subtasks = [t for t in result.ledger if t.sender == "a0"]
    assert subtasks and {t.receiver for t in subtasks} <= set(topology.readers("a0"))
    assert all(t.round == 1 for t in subtasks) and all(t.round == 2 for t in result.ledger if t.sender != "a0")
    # Gemma 270M rarely writes a valid plan: it is asked to repair, then repaired or rejected cleanly
    plan_notes = [n for n in result.notes if "Plan" in n or "plan rejected" in n]
    assert not plan_notes or any("asked to repair" in n for n in plan_notes)
    assert result.answer or any("no subtask result" in n for n in result.notes)


@pytest.mark.parametrize("spec", SPECS)
async def test_live_hierarchical_on_every_topology(spec: str, gemma: LlamaCppEndpoint) -> None:
    team = _live_team(gemma, "supervisor")
    topology = parse_topology(spec, team.names)
    result = await hierarchical(TASK, team, topology, max_steps=2, max_tokens=8, decision_tokens=32)
    _check_ledger(topology, result)
    assert 1 <= result.rounds <= 2
    assignments = [t for t in result.ledger if t.sender == "a0"]
    assert len(assignments) == result.rounds and {t.receiver for t in assignments} <= set(topology.readers("a0"))
    assert result.stopped_because in ("max rounds (2)", "the supervisor finished")


def _scripted(fault_server: str, fault: str) -> OpenAICompatEndpoint:
    profile = endpoint_profiles()["gpt-4o-mini"]
    return OpenAICompatEndpoint(f"cloud-{fault}", f"{fault_server}/{fault}/v1", "fault-model", profile, "cloud", max_retries=0)


def _workers(n: int = 2) -> list[Agent]:
    profile = endpoint_profiles()["laptop-cpu/gemma3-270m-q4"]
    return [Agent(f"w{i}", SimulatedEndpoint(f"s{i}", profile, f"robot{i}", answer="yes"), Node(name=f"robot{i}", tier="device"),
                  role="worker") for i in range(1, n + 1)]


async def test_invalid_plan_is_repaired_once_or_rejected(fault_server: str) -> None:
    cloud = Node(name="cloud", tier="cloud")
    repaired_team = Team([Agent("lead", _scripted(fault_server, "jsonrepair"), cloud, role="planner"), *_workers()])
    result = await division_of_labour(TASK, repaired_team, star(repaired_team.names, "lead"))
    assert any("asked to repair" in n for n in result.notes) and any("Plan repaired" in n for n in result.notes)
    sent = [t for t in result.ledger if t.sender == "lead"]
    assert [t.receiver for t in sent] == ["w1", "w2"] and all(t.link.endswith("(5g)") for t in sent)
    assert result.answer == "all good"  # the scripted aggregator's merge
    broken_team = Team([Agent("lead", _scripted(fault_server, "jsonbroken"), cloud, role="planner"), *_workers()])
    rejected = await division_of_labour(TASK, broken_team, star(broken_team.names, "lead"))
    assert any("after one repair" in n and "rejected" in n for n in rejected.notes)
    assert any("plan rejected" in n for n in rejected.notes) and len([t for t in rejected.ledger if t.sender == "lead"]) == 2


async def test_supervisor_assigns_then_finishes_with_structured_records(fault_server: str) -> None:
    team = Team([Agent("boss", _scripted(fault_server, "jsonrepair"), Node(name="cloud", tier="cloud"), role="supervisor"),
                 *_workers()])
    result = await hierarchical(TASK, team, star(team.names, "boss"), max_steps=3)
    assert result.stopped_because == "the supervisor finished" and result.answer == "yes" and result.correct
    assert result.rounds == 1 and result.answers == [{"w1": result.answers[0]["w1"]}]
    kinds = [(t.sender, t.receiver) for t in result.ledger]
    assert kinds == [("boss", "w1"), ("w1", "boss")]


def test_roles_are_checked() -> None:
    team = Team(_workers(3))
    with pytest.raises(ConfigError, match="planner"):
        import asyncio

        asyncio.run(division_of_labour(TASK, team, star(team.names)))
    with pytest.raises(ConfigError, match="supervisor"):
        import asyncio

        asyncio.run(hierarchical(TASK, team, star(team.names)))


async def test_hybrid_cloud_supervisor_with_talking_device_workers(fault_server: str, gemma: LlamaCppEndpoint) -> None:
    boss = Agent("boss", _scripted(fault_server, "jsonrepair"), Node(name="cloud", tier="cloud"), role="supervisor")
    workers = [Agent(f"w{i}", gemma, Node(name=f"robot{i}", tier="device"), role="worker") for i in (1, 2, 3)]
    team = Team([boss, *workers])
    topology = parse_topology("hybrid:boss:ring", team.names)
    result = await hierarchical(TASK, team, topology, max_steps=3, max_tokens=6)
    assert result.stopped_because == "the supervisor finished" and result.answer == "yes"
    _check_ledger(topology, result)
    by_edge = {(t.sender, t.receiver): t for t in result.ledger}
    assert set(by_edge) == {("boss", "w1"), ("w1", "boss"), ("w1", "w2"), ("w1", "w3")}
    assert by_edge[("boss", "w1")].link == by_edge[("w1", "boss")].link == "robot1<->cloud (5g)"
    assert by_edge[("w1", "w2")].link == "robot1<->robot2 (wifi)"
    by_caller = {c.caller: c for c in result.ledger.charges}  # money is in the calls: the cloud boss pays, gemma is free
    assert by_caller["boss"].dollars > 0 and by_caller["w1"].dollars == 0
    assert by_edge[("w1", "boss")].seconds > by_edge[("w1", "w2")].seconds  # 5G is slower than Wi-Fi
