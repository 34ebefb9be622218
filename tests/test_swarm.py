"""The swarm simulation: a thousand agents on the virtual clock, with the ledger exact, message
loss at its rate, outages that cut agents off and store-and-forward that reconciles them."""

from __future__ import annotations

import pytest

from tierlink.agents.topology import parse_topology
from tierlink.core.errors import ConfigError
from tierlink.core.tokens import CHARS_PER_TOKEN
from tierlink.scale.recorded_agents import RecordedAgents
from tierlink.scale.swarm import SwarmConfig, run_swarm


@pytest.fixture(scope="module")
def recorded() -> RecordedAgents:
    return RecordedAgents.load()


def _split_question(recorded: RecordedAgents) -> int:
    """The first question the recorded models disagree on most (about half right)."""
    shares = [sum(recorded.correct(m, q) for m in recorded.models_for(q)) / len(recorded.models_for(q)) for q in recorded.questions]
    return min(range(len(shares)), key=lambda i: abs(shares[i] - 0.5))


@pytest.mark.parametrize("history", ["last_round", "full"])
def test_a_lossless_run_carries_exactly_one_message_per_edge_per_round(recorded: RecordedAgents, history: str) -> None:
    config = SwarmConfig(agents=60, rounds=4, topology="sparse:3", history=history)
    result = run_swarm(config, recorded, 5)
    edges = parse_topology("sparse:3", [f"agent{i}" for i in range(60)]).edges
    assert len(result.ledger) == 4 * len(edges) == sum(r.delivered for r in result.rounds)
    models = recorded.models_for(result.question)
    size = {f"agent{i}": recorded.output_tokens(models[i % len(models)], result.question) * CHARS_PER_TOKEN for i in range(60)}
    carried = sum(size[s] for s, _ in edges)
    expected = carried * (1 + 2 + 3 + 4 if history == "full" else 4)
    assert result.ledger.total().bytes == expected == sum(r.bytes for r in result.rounds)


def test_messages_are_lost_at_the_configured_rate_and_runs_repeat_for_a_seed(recorded: RecordedAgents) -> None:
    config = SwarmConfig(agents=400, rounds=10, topology="sparse:4", loss=0.1)
    first, again = run_swarm(config, recorded, 3), run_swarm(config, recorded, 3)
    sent, lost = sum(r.sent for r in first.rounds), sum(r.lost for r in first.rounds)
    assert sent == 16_000 and abs(lost / sent - 0.1) < 0.01  # 3 sigma of a binomial(16000, 0.1) share is 0.007
    assert first.rounds == again.rounds
    other = run_swarm(config.model_copy(update={"seed": 1}), recorded, 3)
    assert sum(r.lost for r in other.rounds) != lost


def test_outages_cut_agents_off_and_store_and_forward_reconciles_them(recorded: RecordedAgents) -> None:
    config = SwarmConfig(agents=300, rounds=10, outages_per_hour=60, mean_outage_s=20)
    kept = run_swarm(config, recorded, 2)
    dropped = run_swarm(config.model_copy(update={"store_and_forward": False}), recorded, 2)
    assert 0.05 < kept.offline_share < 0.6 and kept.offline_share == dropped.offline_share  # same traces
    assert sum(r.reconciled for r in kept.rounds) > 0 and sum(r.reconciled for r in dropped.rounds) == 0
    assert len(kept.ledger) == sum(r.delivered + r.reconciled for r in kept.rounds)
    assert kept.ledger.total().bytes == sum(r.bytes for r in kept.rounds)


def test_a_split_swarm_converges_under_ten_percent_loss(recorded: RecordedAgents) -> None:
    question = _split_question(recorded)
    result = run_swarm(SwarmConfig(agents=1000, rounds=10, loss=0.1), recorded, question)
    assert result.rounds[0].agreement < 0.8  # the recorded models disagree at the start
    assert result.consensus_round is not None and result.rounds[-1].agreement >= 0.9


@pytest.mark.parametrize(("field", "value", "message"), [
    ("topology", "mesh", "topology"), ("link", "carrier-pigeon", "link"), ("device_profile", "abacus", "device_profile")])
def test_a_bad_swarm_setting_is_named(recorded: RecordedAgents, field: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_swarm(SwarmConfig(agents=10, rounds=1, **{field: value}), recorded)


def test_the_cli_runs_a_swarm_and_names_a_bad_option() -> None:
    import json
    import os
    import subprocess
    import sys
    run = [sys.executable, "-m", "tierlink.cli", "swarm", "--agents", "200", "--rounds", "3", "--loss", "0.1", "--json"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    rounds = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["round"] for r in rounds] == [0, 1, 2, 3] and rounds[1]["sent"] == 800 and 0 < rounds[1]["lost"] < 200
    bad = subprocess.run([*run[:4], "--history", "some"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--history" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr
