"""Teams on a real local Ray cluster (127.0.0.1, usage stats off): the same pattern code, every
agent's model in an actor, gives the same answers and the same ledger as on asyncio."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("ray")

from tierlink.agents.patterns.debate import debate  # noqa: E402
from tierlink.agents.patterns.hierarchical import hierarchical  # noqa: E402
from tierlink.agents.result import Task, TeamResult  # noqa: E402
from tierlink.agents.team import Agent, Team  # noqa: E402
from tierlink.agents.topology import parse_topology, star  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402
from tierlink.endpoints.simulated import SimulatedEndpoint  # noqa: E402
from tierlink.network.node import Node  # noqa: E402
from tierlink.scale.ray_runtime import RayEndpoint, RayRuntime  # noqa: E402

TASK = Task(id="q", question="Which letter? Answer with one letter.", gold="B")


@pytest.fixture(scope="module")
def runtime():  # type: ignore[no-untyped-def]
    ray_runtime = RayRuntime(num_cpus=2)
    ray_runtime.start()
    yield ray_runtime
    ray_runtime.stop()


def _team(n: int, roles: dict[str, str] | None = None) -> Team:
    """Agents that answer A, B or C (more B than the others), on phones over Wi-Fi."""
    profile = endpoint_profiles()["phone/gemma3-1b-q4"]
    letters = "ABBCB"
    return Team([Agent(f"a{i}", SimulatedEndpoint(f"sim{i}", profile, f"phone{i}", answer=letters[i % 5], output_tokens=4),
                       Node(name=f"phone{i}", tier="device"), (roles or {}).get(f"a{i}", "solver")) for i in range(n)])


def _same(a: TeamResult, b: TeamResult) -> None:
    """Answers, every transfer (but its wall-clock stamp) and every charge agree; concurrent calls
    may finish (and be charged) in another order, so charges compare by round and agent."""
    assert (a.answer, a.answers, a.rounds, a.stopped_because) == (b.answer, b.answers, b.rounds, b.stopped_because)
    strip = [t.model_dump(exclude={"time_s"}) for t in a.ledger], [t.model_dump(exclude={"time_s"}) for t in b.ledger]
    assert strip[0] == strip[1] and len(strip[0]) > 0
    order = lambda c: (c.round, c.caller, c.kind)  # noqa: E731
    assert sorted(a.ledger.charges, key=order) == sorted(b.ledger.charges, key=order)
    assert a.ledger.total() .bytes == b.ledger.total().bytes and a.ledger.spent() == b.ledger.spent()


def test_the_local_cluster_listens_on_the_loopback_address_only(runtime: RayRuntime) -> None:
    import ray
    assert [node["NodeManagerAddress"] for node in ray.nodes()] == ["127.0.0.1"]


def test_a_seeded_debate_on_ray_matches_asyncio(runtime: RayRuntime) -> None:
    team = _team(12)
    topology = parse_topology("sparse:3", team.names)
    local = asyncio.run(debate(TASK, team, topology, rounds=2, max_tokens=4))
    moved = runtime.team(team)
    assert all(isinstance(a.endpoint, RayEndpoint) for a in moved.agents)
    on_ray = asyncio.run(debate(TASK, moved, topology, rounds=2, max_tokens=4))
    _same(local, on_ray)
    assert on_ray.answer.startswith("B")


def test_a_hierarchical_team_on_ray_matches_asyncio(runtime: RayRuntime) -> None:
    roles = {"a0": "supervisor", **{f"a{i}": "worker" for i in range(1, 5)}}
    team = _team(5, roles)
    topology = star(team.names, "a0")
    local = asyncio.run(hierarchical(TASK, team, topology, max_steps=3, max_tokens=4))
    on_ray = asyncio.run(hierarchical(TASK, runtime.team(team), topology, max_steps=3, max_tokens=4))
    _same(local, on_ray)


def test_without_ray_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from tierlink.core.errors import ConfigError
    from tierlink.scale import ray_runtime
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "ray" else real_import(name, *a, **k))
    with pytest.raises(ConfigError, match=r"tierlink\[ray\]"):
        ray_runtime._ray()
