"""Replayed team runs account every message like live ones, the settled-count rule gives the
vote's answer with fewer asks, pruning reads replayed runs, and the learned orchestrator beats
asking everyone and asking one agent on questions it never trained on."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tierlink.agents.pruning import edge_utility, prune
from tierlink.agents.topology import parse_topology
from tierlink.scale.orchestrator import (
    accuracy_order,
    orchestrate,
    right,
    settled_asks,
    train_orchestrator,
)
from tierlink.scale.orchestrator_env import OrchestratorEnv
from tierlink.scale.recorded_agents import RecordedAgents
from tierlink.scale.team_replay import COORDINATOR, ReplayTeam, replay_asks, replay_debate

MODELS = ("Meta-Llama-3-8B-Instruct", "Mixtral-8x7B-Instruct-v0.1", "Qwen2-7B-Instruct", "Yi-1.5-9B-Chat",
          "claude-3-opus-20240229")


@pytest.fixture(scope="module")
def team() -> ReplayTeam:
    return ReplayTeam(RecordedAgents.load(), MODELS)


def test_a_replayed_debate_accounts_every_message_like_a_live_one(team: ReplayTeam) -> None:
    question = team.recorded.questions[0]
    full = parse_topology("full", team.names)
    run = replay_debate(team, question, full, rounds=2)
    sizes = [team.output_tokens(i, question) for i in range(5)]
    assert run.ledger.total().transfers == 5 * 4 * 2 + 5  # every edge each revision round, then each answer to the count
    assert run.ledger.total().tokens == 4 * 2 * sum(sizes) + sum(sizes)
    assert sum(1 for t in run.ledger if t.receiver == COORDINATOR) == 5
    assert len(run.ledger.charges) == 15 and run.rounds == 3
    full_history = replay_debate(team, question, full, rounds=2, history="full")
    assert full_history.ledger.total().tokens == 4 * (1 + 2) * sum(sizes) + sum(sizes)
    vote = replay_debate(team, question, full, rounds=0)
    assert vote.ledger.total().transfers == 5 and vote.pattern == "vote"
    asked = replay_asks(team, question, [4, 0])
    assert asked.ledger.total().tokens == sizes[4] + sizes[0] and asked.rounds == 2


def test_the_settled_count_gives_the_votes_answer_with_fewer_asks(team: ReplayTeam) -> None:
    full = parse_topology("full", team.names)
    order = accuracy_order(team, team.recorded.questions[:100])
    assert order[0] == MODELS.index("claude-3-opus-20240229")
    asks, compared = 0, 0
    for question in team.recorded.questions[100:]:
        vote = replay_debate(team, question, full, rounds=0)
        counts = sorted(np.unique([a for a in vote.answers[0].values()], return_counts=True)[1], reverse=True) + [0]
        settled = settled_asks(team, question, order)
        asks += settled.rounds
        if counts[0] > counts[1]:  # a unique plurality: the rule must find it
            compared += 1
            assert right(settled) == right(vote)
    assert compared > 50 and asks < 5 * len(team.recorded.questions[100:]) * 0.8


def test_pruning_reads_replayed_debates(team: ReplayTeam) -> None:
    full = parse_topology("full", team.names)
    runs = [replay_debate(team, q, full, rounds=2) for q in team.recorded.questions[:60]]
    utility = edge_utility(runs, full)
    assert any(u > 0 for u in utility.values()) and any(u < 0 for u in utility.values())
    pruned = prune(full, utility, 0.5)
    assert len(pruned.edges) == 10
    assert replay_debate(team, team.recorded.questions[0], pruned, 2).ledger.total().transfers == 10 * 2 + 5


def test_masks_keep_the_orchestrator_from_asking_twice_or_stopping_first(team: ReplayTeam) -> None:
    env = OrchestratorEnv(team, team.recorded.questions[:5])
    env.reset(seed=0)
    assert env.action_masks().tolist() == [True] * 5 + [False]
    env.step(2)
    assert env.action_masks().tolist() == [True, True, False, True, True, True]


def test_the_learned_orchestrator_beats_asking_everyone_and_asking_one_on_held_out_questions(team: ReplayTeam) -> None:
    questions = list(team.recorded.questions)
    random.Random(0).shuffle(questions)
    train, test = questions[:130], questions[130:]
    model = train_orchestrator(team, train, steps=12_000, seed=0, max_token_weight=1.0)
    full = parse_topology("full", team.names)
    weight = 0.3

    def value(results: list) -> float:  # the reward it was trained for: right answers minus weighted message tokens
        return float(np.mean([right(r) - weight * r.ledger.total().tokens / 1000 for r in results]))

    learned = value([orchestrate(model, team, q, weight) for q in test])
    everyone = value([replay_debate(team, q, full, rounds=0) for q in test])
    best_single = max(value([replay_asks(team, q, [i]) for q in test]) for i in range(5))
    assert learned > everyone + 0.05
    assert learned >= best_single - 0.01  # at least as good as the best single agent, which it had to find
