"""Per-zone trust rules: for each zone a turn may go to, personal data goes in clear, as tokens or
not at all, and only named zones receive private requests. Checked against a real HTTP upstream
that records every body it received, one route per zone."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.servers.endpoints import device_and_cloud
from tests.test_config import GOOD
from tests.test_pii import DETECTOR, TEMPLATES, VALUES
from tierlink.config.build import build_deployment
from tierlink.config.load import load_config
from tierlink.core import Budget, Request
from tierlink.core.errors import ConfigError
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.routing.policies.fixed import AlwaysCloud
from tierlink.routing.relevance import LexicalRelevance
from tierlink.routing.session import Session
from tierlink.trust.pseudonyms import Pseudonymiser
from tierlink.trust.zones import ZoneRule, ZoneRules

ZONES = ("edge", "cloud", "partner")
RULES = st.builds(ZoneRule, pii=st.sampled_from(["off", "pseudonymise", "refuse"]),
                  keep=st.sets(st.sampled_from(["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "IP_ADDRESS"]), max_size=2).map(frozenset))


def _endpoints(server: str) -> dict[str, OpenAICompatEndpoint]:
    """The device, and one echoing endpoint per zone (route echo-<zone>), GPT-4o-priced."""
    endpoints: dict[str, OpenAICompatEndpoint] = {"device": device_and_cloud(server, "echo")["device"]}
    for zone in ZONES:
        endpoints[zone] = OpenAICompatEndpoint(zone, f"{server}/echo-{zone}/v1", "m", endpoint_profiles()["gpt-4o"], zone,
                                               api_key_env="TIERLINK_TEST_NO_KEY", max_retries=0)
    return endpoints


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rules=st.fixed_dictionaries({zone: RULES for zone in ZONES}),
       turns=st.lists(st.tuples(st.sampled_from(ZONES), st.sampled_from(TEMPLATES), st.lists(VALUES, min_size=0, max_size=2)),
                      min_size=1, max_size=4))
async def test_every_zone_gets_only_what_its_rule_lets_through(fault_server: str, rules: dict, turns: list) -> None:  # type: ignore[type-arg]
    httpx.post(f"{fault_server}/reset")
    endpoints = _endpoints(fault_server)
    session = Session(endpoints, "device", AlwaysCloud(), Budget(), zones={"device": "device", **{z: z for z in ZONES}},
                      scorer=LexicalRelevance(), rules=ZoneRules(zones=rules), pseudonymiser=Pseudonymiser(detector=DETECTOR))
    said: list[tuple[str, str]] = []  # every value the user has said so far, with its type
    for zone, template, values in turns:
        session.policy = AlwaysCloud(zone)
        text = template.format(" and ".join(value for _, value in values) or "the usual")
        said += values
        before = len(httpx.get(f"{fault_server}/recorded").json())
        result = await session.ask(Request.of(text, max_tokens=64))
        received = httpx.get(f"{fault_server}/recorded").json()[before:]
        rule = rules[zone]
        secret = [value for entity, value in said if entity not in rule.keep]
        if rule.pii == "refuse" and secret:  # the history carries them too: the device answers
            assert received == [] and result.endpoint == "device"
            continue
        assert result.endpoint == zone and result.answer == text  # the echo, restored to the user's words
        wire = str(received)
        if rule.pii == "pseudonymise":
            assert not [value for value in secret if value in wire]
        assert all(value in wire for entity, value in values if rule.pii == "off" or entity in rule.keep)
    for endpoint in endpoints.values():
        await endpoint.aclose()


async def test_private_requests_reach_only_the_zones_whose_rule_allows_them(fault_server: str) -> None:
    httpx.post(f"{fault_server}/reset")
    endpoints = _endpoints(fault_server)
    rules = ZoneRules(zones={"edge": ZoneRule(private=True)}, default=ZoneRule(pii="pseudonymise"))
    session = Session(endpoints, "device", AlwaysCloud("cloud"), Budget(), zones={"device": "device", **{z: z for z in ZONES}},
                      scorer=LexicalRelevance(), rules=rules)
    to_cloud = await session.ask(Request.of("my diary entry", private=True))
    session.policy = AlwaysCloud("edge")
    to_edge = await session.ask(Request.of("my diary entry", private=True))
    assert (to_cloud.endpoint, to_edge.endpoint) == ("device", "edge")
    assert "private data may not leave the device/edge zone" in to_cloud.action.reason
    assert [r["route"] for r in httpx.get(f"{fault_server}/recorded").json()] == ["echo-edge"]
    assert session.stats.held_back == 1
    for endpoint in endpoints.values():
        await endpoint.aclose()


async def test_a_text_file_bound_for_a_pseudonymising_zone_is_redacted_inside(fault_server: str) -> None:
    from tierlink.core.messages import Attachment
    from tierlink.routing.outgoing import text_body
    httpx.post(f"{fault_server}/reset")
    endpoints = _endpoints(fault_server)
    session = Session(endpoints, "device", AlwaysCloud("cloud"), Budget(), zones={"device": "device", **{z: z for z in ZONES}},
                      scorer=LexicalRelevance(), rules=ZoneRules(default=ZoneRule(pii="pseudonymise")))
    notes = Attachment(kind="document", mime="text/plain", size_bytes=40, description="notes for jane.doe@example.com",
                       data=b"Card 4111111111111111, SSN 536-22-8726.")
    prepared = session.preparer.prepare("cloud", endpoints["cloud"], Request.of("Summarise the notes.", attachments=(notes,)),
                                        await session.policy.decide(session.preview(Request.of("x"))), (), None)
    sent = prepared.request.attachments[0]
    assert text_body(sent) == "Card <CREDIT_CARD_1>, SSN <US_SSN_1>." and sent.description == "notes for <EMAIL_ADDRESS_1>"
    assert prepared.redacted == {"CREDIT_CARD": 1, "US_SSN": 1, "EMAIL_ADDRESS": 1}
    for endpoint in endpoints.values():
        await endpoint.aclose()


@pytest.mark.parametrize(("trust", "field", "fix"), [
    ("trust: {zones: {moon: {pii: refuse}}}", "trust.zones.moon", "use a zone of `nodes:`"),
    ("trust: {zones: {device: {pii: off}}}", "trust.zones.device", "remove this rule"),
    ("trust: {zones: {home: {pii: redact}}}", "trust.zones.home.pii", "off"),
    ("trust: {keep: [NAME]}", "trust.keep", "PERSON"),
])
def test_a_bad_zone_rule_names_the_field_and_the_fix(tmp_path: Path, trust: str, field: str, fix: str) -> None:
    path = tmp_path / "tierlink.yaml"
    path.write_text(GOOD.replace("  cloud: {tier: cloud}\n", "  cloud: {tier: cloud}\n  home: {tier: edge, zone: home}\n") + trust)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert field in raised.value.field and fix in str(raised.value)


def test_a_configured_rule_set_reaches_the_session(tmp_path: Path) -> None:
    path = tmp_path / "tierlink.yaml"
    path.write_text(GOOD + "trust: {pii: refuse, keep: [DATE_TIME], zones: {cloud: {pii: pseudonymise, private: true}}}")
    session = build_deployment(load_config(path)).session(AlwaysCloud())
    rules = session.preparer.rules
    assert rules is not None and rules.rule_for("cloud") == ZoneRule(pii="pseudonymise", private=True)
    assert rules.rule_for("elsewhere") == ZoneRule(pii="refuse", keep=frozenset({"DATE_TIME"}))
    assert rules.rule_for("device") is None and session.residency.private_zones == {"device", "cloud"}
