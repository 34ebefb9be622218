"""The `nway` policy serves the N-way router in a session among three tiers: each turn goes where
the saved router says (predicted quality minus weight x price), a heavy price weight sends every
turn to the cheapest tier, and the policy is configured from YAML-shaped parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tierlink.bench.datasets import load_from
from tierlink.bench.splits import split_outcomes
from tierlink.core import Budget, Request
from tierlink.core.errors import ConfigError
from tierlink.endpoints.outcome_table import OutcomeTable
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.nway import NWayRouter
from tierlink.routing.policy import JoinEvidence, make_policy
from tierlink.routing.relevance import LexicalRelevance
from tierlink.routing.session import Session

TIERS = {"Meta-Llama-3-8B-Instruct": "device", "Mixtral-8x7B-Instruct-v0.1": "edge", "claude-3-opus-20240229": "cloud"}
PROFILES = {"device": "laptop-cpu/gemma3-270m-q4", "edge": "edge-l4/llama3.1-8b", "cloud": "gpt-4o"}
MAPPING = ",".join(f"{model}={tier}" for model, tier in TIERS.items())


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    frame = load_from("zeroeval-gsm8k", None)
    frame = frame[frame["model"].isin(list(TIERS))].dropna(subset=["cost_usd"])
    train, test, _ = split_outcomes(frame, 0.3, 0, False)
    directory = tmp_path_factory.mktemp("nway")
    router = NWayRouter().fit(train, EmbeddingCache())
    router.save(directory)
    return directory, router, test


def _session(test, policy) -> Session:  # type: ignore[no-untyped-def]
    table, profiles = OutcomeTable(test), endpoint_profiles()
    endpoints = {tier: ReplayEndpoint(tier, table, model, profiles[PROFILES[tier]], tier) for model, tier in TIERS.items()}
    return Session(endpoints, "device", policy, Budget(), scorer=LexicalRelevance())


async def test_each_turn_goes_where_the_saved_router_says(trained) -> None:  # type: ignore[no-untyped-def]
    directory, router, test = trained
    prompts = test.drop_duplicates("prompt_id").head(12)
    session = _session(test, make_policy("nway", model=str(directory), endpoints=MAPPING))
    expected = router.choose(router.predict(Prompts(prompts["prompt_id"].to_numpy(dtype=str), prompts["prompt"].tolist(),
                                                    [None] * len(prompts)), EmbeddingCache()), 0.0)
    for prompt_id, text in zip(prompts["prompt_id"], prompts["prompt"], strict=True):
        result = await session.ask(Request.of(text, prompt_id=prompt_id))
        assert result.endpoint == TIERS[expected[prompt_id]] and result.reason.startswith("nway:")
    assert len(set(expected)) >= 1 and sum(session.stats.by_endpoint.values()) == len(prompts)


async def test_a_heavy_price_weight_sends_every_turn_to_the_cheapest_tier(trained) -> None:  # type: ignore[no-untyped-def]
    directory, router, test = trained
    cheapest = TIERS[min(router.prices, key=lambda m: router.prices[m])]
    session = _session(test, make_policy("nway", model=str(directory), endpoints=MAPPING, weight=1e6))
    for prompt_id, text in test.drop_duplicates("prompt_id").head(6)[["prompt_id", "prompt"]].itertuples(index=False):
        assert (await session.ask(Request.of(text, prompt_id=prompt_id))).endpoint == cheapest
    assert np.isclose(router.prices[min(router.prices, key=lambda m: router.prices[m])], min(router.prices.values()))


def test_a_malformed_mapping_names_the_field(trained) -> None:  # type: ignore[no-untyped-def]
    directory, _, _ = trained
    with pytest.raises(ConfigError, match="policy.params.endpoints.*'gpt-4o' is not model=endpoint"):
        make_policy("nway", model=str(directory), endpoints="gpt-4o")


def test_a_directory_without_a_router_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no nway.joblib here.*bench nway"):
        make_policy("nway", model=str(tmp_path))


async def test_an_endpoint_that_joins_is_weighed_from_its_probes_and_forgotten_when_it_leaves(trained) -> None:  # type: ignore[no-untyped-def]
    directory, _, test = trained
    policy = make_policy("nway", model=str(directory), endpoints=MAPPING, weight=1e6)  # price first: both joiners are free
    table, profiles = OutcomeTable(test), endpoint_profiles()
    prompts = test.drop_duplicates("prompt_id").head(8)
    ids, texts = tuple(prompts["prompt_id"].astype(str)), tuple(prompts["prompt"].astype(str))
    strong = JoinEvidence(profile=profiles["gpt-4o"], probe_ids=ids, probe_texts=texts, outcomes=(1.0,) * 8, dollars_per_call=0.0)
    weak = JoinEvidence(profile=profiles["gpt-4o"], probe_ids=ids, probe_texts=texts, outcomes=(0.0,) * 8, dollars_per_call=0.0)
    assert policy.joined("newcomer", weak) is not None and "0 right" in policy.joined("loser", weak)  # type: ignore[operator]
    note = policy.joined("newcomer", strong)
    assert note is not None and note.startswith("nway: joined with ability +")
    assert policy.joined("silent", JoinEvidence(profile=profiles["gpt-4o"])) is None  # no probes, no opinion

    def session() -> Session:
        endpoints = {tier: ReplayEndpoint(tier, table, model, profiles[PROFILES[tier]], tier) for model, tier in TIERS.items()}
        for name in ("newcomer", "loser"):
            endpoints[name] = ReplayEndpoint(name, table, "claude-3-opus-20240229", profiles["gpt-4o"], "cloud")
        return Session(endpoints, "device", policy, Budget(), scorer=LexicalRelevance())

    turns = test.drop_duplicates("prompt_id").iloc[8:20]
    chosen = [(await session().ask(Request.of(t, prompt_id=p))).endpoint for p, t in turns[["prompt_id", "prompt"]].itertuples(index=False)]
    assert chosen == ["newcomer"] * len(chosen)  # free, and 8 of 8 probes right against the other free one's 0 of 8
    policy.left("newcomer")
    chosen = [(await session().ask(Request.of(t, prompt_id=p))).endpoint for p, t in turns[["prompt_id", "prompt"]].itertuples(index=False)]
    assert chosen == ["loser"] * len(chosen)  # gone from the router; the other joiner is still weighed (the cheapest now)
