"""The `self-route` policy in a session: the device's help tag sends a turn to the cloud, within
the call cap; replayed device answers (some ending with the tag) stand in for a trained model."""

from __future__ import annotations

import pandas as pd

from tierlink.context.history import HistoryPlan
from tierlink.core import Budget, Request
from tierlink.endpoints.outcome_table import OutcomeTable
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.routing.help_tag import HELP_TAG
from tierlink.routing.policy import make_policy
from tierlink.routing.relevance import LexicalRelevance
from tierlink.routing.session import Session

TAGGED = {1, 2, 4, 6, 7, 9}  # turns whose recorded device answer asks for help
TAG_ONLY = {9}  # a draft that is nothing but the tag


def _table() -> OutcomeTable:
    rows = []
    for i in range(10):
        device = f"I do not know. {HELP_TAG}" if i in TAGGED else f"The answer is {i}."
        device = HELP_TAG if i in TAG_ONLY else device
        rows += [{"prompt_id": f"q{i}", "prompt": f"What is {i} + 0?", "task": "arith", "model": "device",
                  "score": 0.0 if i in TAGGED else 1.0, "response": device, "input_tokens": 20, "output_tokens": 8},
                 {"prompt_id": f"q{i}", "prompt": f"What is {i} + 0?", "task": "arith", "model": "cloud",
                  "score": 1.0, "response": f"{i}", "input_tokens": 20, "output_tokens": 2}]
    return OutcomeTable(pd.DataFrame(rows))


async def test_tagged_answers_go_to_the_cloud_until_the_cap_then_the_device_answer_stands() -> None:
    table, profiles = _table(), endpoint_profiles()
    endpoints = {"device": ReplayEndpoint("device", table, "device", profiles["laptop-cpu/gemma3-270m-q4"], "device"),
                 "cloud": ReplayEndpoint("cloud", table, "cloud", profiles["gpt-4o-mini"], "cloud")}
    session = Session(endpoints, "device", make_policy("self-route", call_ratio=0.3), Budget(),
                      expected_turns=10, scorer=LexicalRelevance(), history_plan=HistoryPlan(kind="none"),
                      device_history=HistoryPlan(kind="none"))
    results = [await session.ask(Request.of(f"What is {i} + 0?", prompt_id=f"q{i}")) for i in range(10)]
    remote = [i for i, r in enumerate(results) if r.endpoint == "cloud"]
    assert remote == [1, 2, 4]  # ceil(0.3 x 10) calls, first come first served
    assert all(r.used_draft and r.endpoint == "device" for i, r in enumerate(results) if i not in TAGGED)
    for i in (6, 7):  # asked for help with the calls spent: the device's answer stands, without the tag, and says why
        assert results[i].endpoint == "device" and results[i].used_draft and results[i].answer == "I do not know."
        assert "remote calls" in results[i].reason and "spent" in results[i].reason
    assert results[9].refused and results[9].answer == "" and "only asked for help" in results[9].reason
    assert results[1].answer == "1" and "asked for help" in results[1].reason
    assert session.stats.by_endpoint == {"device": 6, "cloud": 3}
    assert "unknown" not in " ".join(m.content for m in session.history if m.role == "assistant")


async def test_help_asked_with_the_cloud_over_budget_keeps_the_device_answer_without_a_second_call() -> None:
    table, profiles = _table(), endpoint_profiles()
    endpoints = {"device": ReplayEndpoint("device", table, "device", profiles["laptop-cpu/gemma3-270m-q4"], "device"),
                 "cloud": ReplayEndpoint("cloud", table, "cloud", profiles["gpt-4o-mini"], "cloud")}
    session = Session(endpoints, "device", make_policy("self-route", call_ratio=1.0), Budget(dollars=1e-9),
                      expected_turns=1, scorer=LexicalRelevance(), device_history=HistoryPlan(kind="none"))
    result = await session.ask(Request.of("What is 1 + 0?", prompt_id="q1"))
    assert result.endpoint == "device" and result.used_draft and "over the budget" in result.reason
    assert session.stats.by_endpoint == {"device": 1}


async def test_a_device_fallback_answer_that_asks_for_help_is_shown_without_the_tag() -> None:
    table, profiles = _table(), endpoint_profiles()
    endpoints = {"device": ReplayEndpoint("device", table, "device", profiles["laptop-cpu/gemma3-270m-q4"], "device"),
                 "cloud": ReplayEndpoint("cloud", table, "cloud", profiles["gpt-4o-mini"], "cloud")}
    session = Session(endpoints, "device", make_policy("always-cloud"), Budget(dollars=1e-9), expected_turns=2,
                      scorer=LexicalRelevance(), history_plan=HistoryPlan(kind="none"),
                      device_history=HistoryPlan(kind="none"))
    asked = await session.ask(Request.of("What is 1 + 0?", prompt_id="q1"))  # the cloud does not fit: the device answers
    assert asked.endpoint == "device" and asked.fallback and not asked.used_draft and asked.answer == "I do not know."
    only_tag = await session.ask(Request.of("What is 9 + 0?", prompt_id="q9"))
    assert only_tag.refused and "only asked for help" in only_tag.reason
    assert "unknown" not in " ".join(m.content for m in session.history)
