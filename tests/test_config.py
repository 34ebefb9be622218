"""Every bad configuration value gives an error naming the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierlink.config.build import build_deployment
from tierlink.config.load import default_config, load_config
from tierlink.core.errors import ConfigError
from tierlink.network.linked_endpoint import LinkedEndpoint

from .servers.process import free_port

GOOD = """
nodes:
  phone: {tier: device}
  cloud: {tier: cloud}
links:
  phone-cloud: {a: phone, b: cloud, profile: 4g}
endpoints:
  gemma: {kind: llamacpp, node: phone, profile: rpi5/gemma3-270m-q4}
  flash:
    kind: replay
    node: cloud
    outcomes: builtin:routerarena_mcq
    model: gemini-2.0-flash-001
    profile: gemini-2.0-flash
device: gemma
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tierlink.yaml"
    path.write_text(text)
    return path


def _with_endpoint(lines: str) -> str:
    """GOOD with extra endpoint lines added under `endpoints:`."""
    return GOOD.replace("device: gemma\n", lines + "device: gemma\n")


def _error(tmp_path: Path, text: str, check: bool = False) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config = load_config(_write(tmp_path, text), check_endpoints=check)
        build_deployment(config)
    return info.value


def test_good_config_builds_with_linked_cloud(tmp_path: Path) -> None:
    deployment = build_deployment(load_config(_write(tmp_path, GOOD)))
    assert deployment.device == "gemma"
    assert isinstance(deployment.endpoints["flash"], LinkedEndpoint)
    assert not isinstance(deployment.endpoints["gemma"], LinkedEndpoint)
    assert deployment.links["phone-cloud"].rtt_ms > 0


def test_default_config_needs_no_file_and_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    deployment = build_deployment(default_config())
    assert deployment.device == "gemma"
    assert set(deployment.endpoints) == {"gemma", "cloud"}


def test_unknown_device_endpoint(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("device: gemma", "device: gemmma"))
    assert err.field == "device" and "gemmma" in err.problem and "gemma, flash" in err.fix


def test_negative_bandwidth(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("profile: 4g}", "profile: 4g, up_mbps: -5}"))
    assert err.field == "links.phone-cloud.up_mbps"
    assert "greater than 0" in err.problem and "above 0" in err.fix


def test_missing_model_file(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("node: phone,", "node: phone, model_path: /nope/model.gguf,"))
    assert err.field == "endpoints.gemma.model_path"
    assert "/nope/model.gguf" in err.problem and "catalogue" in err.fix


def test_unreachable_base_url_when_checked(tmp_path: Path) -> None:
    port = free_port()
    text = _with_endpoint(
        f"  remote: {{kind: openai, node: cloud, base_url: 'http://127.0.0.1:{port}/v1', "
        "model: gpt-4o-mini, profile: gpt-4o-mini}\n"
    )
    load_config(_write(tmp_path, text))  # not checked: fine
    err = _error(tmp_path, text, check=True)
    assert err.field == "endpoints.remote.base_url"
    assert "unreachable" in err.problem and "start the server" in err.fix


def test_unknown_node_reference(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("node: cloud", "node: sky"))
    assert err.field == "endpoints.flash.node" and "sky" in err.problem and "phone, cloud" in err.fix


def test_unknown_profile_lists_known_ones(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("profile: gemini-2.0-flash", "profile: gpt-9"))
    assert err.field == "endpoints.flash.profile" and "gpt-4o" in err.fix


def test_unknown_link_profile(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("profile: 4g", "profile: 6g"))
    assert err.field == "links.phone-cloud.profile" and "5g" in err.fix


def test_unknown_endpoint_kind(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("kind: replay", "kind: grpc"))
    assert err.field.startswith("endpoints.flash") and "llamacpp" in err.fix


def test_misspelt_field(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("profile: 4g}", "profile: 4g, rtt: 30}"))
    assert err.field == "links.phone-cloud.rtt" and "spelling" in err.fix


def test_missing_link_between_device_and_cloud(tmp_path: Path) -> None:
    text = GOOD.replace("links:\n  phone-cloud: {a: phone, b: cloud, profile: 4g}\n", "")
    err = _error(tmp_path, text)
    assert err.field == "endpoints.flash.node" and "a: phone" in err.fix


def test_replay_model_not_in_table(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("model: gemini-2.0-flash-001", "model: gpt-5"))
    assert err.field == "endpoints.flash.model" and "claude-3-haiku-20240307" in err.fix


def test_missing_outcome_file(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("builtin:routerarena_mcq", "/nope/outcomes.csv"))
    assert err.field == "endpoints.flash.outcomes" and "canonical" in err.fix


def test_bad_url(tmp_path: Path) -> None:
    text = _with_endpoint("  remote: {kind: openai, node: cloud, base_url: not-a-url, model: m, profile: gpt-4o}\n")
    err = _error(tmp_path, text)
    assert err.field == "endpoints.remote.base_url" and "http" in err.fix


def test_outage_must_end_after_it_starts(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("profile: 4g}", "profile: 4g, outages: [{start_s: 5, end_s: 2}]}"))
    assert err.field.startswith("links.phone-cloud.outages") and "after start_s" in err.problem


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    err = _error(tmp_path, "nodes: [unclosed")
    assert "YAML" in err.problem
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")


def test_missing_required_section(tmp_path: Path) -> None:
    err = _error(tmp_path, "nodes:\n  phone: {tier: device}\n")
    assert err.field == "endpoints" and "add this field" in err.fix


def test_unknown_policy_and_bad_budget(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "policy: {name: smart}\n")
    assert err.field == "policy.name" and "cascade" in err.fix
    err = _error(tmp_path, GOOD + "budget: {dollars: -1}\n")
    assert err.field == "budget.dollars" and "at least 0" in err.fix


def test_policy_and_budget_are_read(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD + "policy: {name: threshold, params: {threshold: 0.2}}\nbudget: {latency_s: 10, dollars: 0.01}\n"))
    assert config.policy.name == "threshold" and config.policy.params == {"threshold": 0.2}
    assert config.budget.dollars == 0.01 and config.budget.latency_s == 10


def test_every_endpoint_kind_has_one_schema_and_one_builder_and_errors_name_them_all(tmp_path: Path) -> None:
    from typing import get_args

    from tierlink.config.build import ENDPOINT_BUILDERS
    from tierlink.config.schema import ENDPOINT_KINDS, EndpointConfig

    union = get_args(get_args(EndpointConfig)[0])
    assert set(ENDPOINT_KINDS.values()) == set(union)
    assert set(ENDPOINT_BUILDERS) == set(ENDPOINT_KINDS) == {get_args(c.model_fields["kind"].annotation)[0] for c in union}
    bad = tmp_path / "kindless.yaml"
    bad.write_text("nodes: {p: {tier: device}}\nendpoints: {d: {node: p, profile: x}}\n")
    with pytest.raises(ConfigError, match="add `kind:` with one of llamacpp, openai, replay"):
        load_config(bad)


def test_team_patterns_come_from_one_registry_and_an_unknown_one_is_named() -> None:
    from pydantic import ValidationError

    from tierlink.agents.patterns.registry import team_patterns
    from tierlink.agents.spec import TeamSpec

    assert set(team_patterns()) == {"debate", "division", "hierarchical"}
    with pytest.raises(ValidationError, match="unknown team pattern 'swarm': use one of: debate, division, hierarchical"):
        TeamSpec(pattern="swarm")


def test_llm_router_is_configured_from_yaml_with_its_router_named(tmp_path: Path) -> None:
    named = build_deployment(load_config(_write(tmp_path, GOOD + "policy: {name: llm-router, params: {router: flash, min_hard: 0.7}}\n")))
    policy = named.policy()
    assert policy.name == "llm-router" and policy.router is named.endpoints["flash"] and policy.min_hard == 0.7  # type: ignore[attr-defined]
    default = build_deployment(load_config(_write(tmp_path, GOOD + "policy: {name: llm-router}\n"))).policy()
    assert default.router.name == "gemma"  # type: ignore[attr-defined]  # the device judges by default
    wrong = build_deployment(load_config(_write(tmp_path, GOOD + "policy: {name: llm-router, params: {router: gpt9}}\n")))
    with pytest.raises(ConfigError, match="policy.params.router.*no endpoint named 'gpt9'.*gemma, flash"):
        wrong.policy()
