"""The command line, run as a user runs it (a real subprocess, the real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .servers.process import free_port


def _tierlink(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tierlink.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def _demo_json(*args: str) -> tuple[list[dict], list[dict]]:
    result = _tierlink("demo", "--json", *args)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return lines[:-1], lines[-1]["summary"]


@pytest.mark.model
def test_demo_routes_each_turn_and_compares_with_fixed_policies() -> None:
    turns, summary = _demo_json("--turns", "3", "--model", "gemma-3-270m")
    assert [t["turn"] for t in turns] == [1, 2, 3]
    for turn in turns:
        assert turn["endpoint"] in {"gemma", "cloud"} and turn["reason"].startswith("cascade")
        assert turn["gold"] in "ABCDEFGHIJ" and turn["budget_left"]["dollars"] <= 0.05
        if turn["endpoint"] == "cloud":
            assert turn["usage"]["dollars"] > 0 and turn["usage"]["bytes_up"] > 0
    by_policy = {s["policy"]: s for s in summary}
    assert set(by_policy) == {"cascade", "always-device", "always-cloud"}
    assert by_policy["always-device"]["dollars"] == 0 and by_policy["always-device"]["device_share"] == 1
    assert "replay" in by_policy["always-cloud"]["origin"] and "live" in by_policy["always-device"]["origin"]


@pytest.mark.model
def test_demo_table_shows_decisions_and_summary() -> None:
    result = _tierlink("demo", "--turns", "2", "--seed", "3", "--model", "gemma-3-270m")
    assert result.returncode == 0, result.stderr
    assert "who" in result.stdout and "summary" in result.stdout and "always-cloud" in result.stdout
    assert "always-device" in result.stdout and "Gemma 3 270M" in result.stdout  # a pipe gets whole lines
    assert "draft first" not in result.stdout and ("accept draft" in result.stdout or "escalate" in result.stdout)


@pytest.mark.model
def test_demo_survives_an_offline_cloud(tmp_path: Path) -> None:
    config = tmp_path / "offline.yaml"
    config.write_text(
        "nodes: {phone: {tier: device}, cloud: {tier: cloud}}\n"
        "links: {l: {a: phone, b: cloud, profile: offline}}\n"
        "endpoints:\n"
        "  gemma: {kind: llamacpp, node: phone, profile: rpi5/gemma3-270m-q4}\n"
        "  cloud: {kind: replay, node: cloud, outcomes: 'builtin:routerarena_mcq', model: gemini-2.0-flash-001, profile: gemini-2.0-flash}\n"
        "policy: {name: always-cloud}\n"
    )
    turns, _ = _demo_json("--turns", "2", "--config", str(config), "--no-compare")
    assert len(turns) == 2
    assert all(t["endpoint"] == "gemma" and "unreachable" in t["reason"] for t in turns)


@pytest.mark.model
def test_ask_prints_answer_usage_and_origin() -> None:
    result = _tierlink("ask", "What is the capital of France?", "--max-tokens", "8", "--json")
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["endpoint"] == "gemma" and completion["origin"] == "live"
    assert completion["usage"]["input_tokens"] > 0


def test_ask_replay_endpoint_over_the_link() -> None:
    from tierlink.data import shipped
    from tierlink.endpoints.outcome_table import OutcomeTable

    record = OutcomeTable.from_path(shipped("routerarena_mcq.csv")).rows()[1]
    result = _tierlink("ask", record.prompt, "--endpoint", "cloud", "--json")
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["origin"] == "replay" and completion["text"] == record.response


def test_endpoints_lists_profiles() -> None:
    result = _tierlink("endpoints")
    assert result.returncode == 0, result.stderr
    assert "gemma" in result.stdout and "gemini-2.0-flash" in result.stdout


def test_bad_config_is_a_clean_error_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("nodes: {phone: {tier: phone}}\nendpoints: {}\n")
    result = _tierlink("demo", "--config", str(config))
    assert result.returncode == 2
    assert "nodes.phone.tier" in result.stdout and "Fix:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_endpoint_and_unreachable_server_are_clean_errors(tmp_path: Path) -> None:
    result = _tierlink("ask", "hi", "--endpoint", "nope")
    assert result.returncode == 2 and "unknown endpoint 'nope'" in result.stdout
    config = tmp_path / "remote.yaml"
    config.write_text(
        "nodes: {phone: {tier: device}, cloud: {tier: cloud}}\n"
        "links: {l: {a: phone, b: cloud, profile: wired}}\n"
        "endpoints:\n"
        "  gemma: {kind: llamacpp, node: phone, profile: rpi5/gemma3-270m-q4}\n"
        f"  gpt: {{kind: openai, node: cloud, base_url: 'http://127.0.0.1:{free_port()}/v1', model: m, profile: gpt-4o, max_retries: 0}}\n"
    )
    result = _tierlink("ask", "hi", "--endpoint", "gpt", "--config", str(config))
    assert result.returncode == 2 and "cannot connect" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.model
def test_demo_with_a_configured_openai_compatible_cloud(llama_server: str, tmp_path: Path) -> None:
    config = tmp_path / "live.yaml"
    config.write_text(
        "nodes: {phone: {tier: device}, cloud: {tier: cloud}}\n"
        "links: {l: {a: phone, b: cloud, profile: wifi}}\n"
        "endpoints:\n"
        "  gemma: {kind: llamacpp, node: phone, profile: rpi5/gemma3-270m-q4}\n"
        f"  server: {{kind: openai, node: cloud, base_url: '{llama_server}', model: gemma-server, profile: gpt-4o-mini}}\n"
        "policy: {name: always-cloud}\n"
    )
    turns, summary = _demo_json("--turns", "2", "--config", str(config), "--no-compare")
    for turn in turns:
        assert turn["endpoint"] == "server" and turn["usage"]["input_tokens"] > 50 and turn["usage"]["dollars"] > 0
    assert summary[0]["origin"] == "live+simulated"


def test_profiles_lists_registry_with_sources() -> None:
    result = _tierlink("profiles", "--sources")
    assert result.returncode == 0, result.stderr
    assert "rpi5/gemma3-270m-q4" in result.stdout and "jetson-agx-orin" in result.stdout
    links = _tierlink("profiles", "--links")
    assert links.returncode == 0 and "satellite" in links.stdout and "offline" in links.stdout


@pytest.mark.model
def test_ask_stream_prints_text_then_usage() -> None:
    result = _tierlink("ask", "Name three rivers in Europe.", "--stream", "--max-tokens", "16")
    assert result.returncode == 0, result.stderr
    assert "(gemma, gemma-3-270m, live)" in result.stdout and "usage" in result.stdout
