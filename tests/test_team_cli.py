"""`tierlink team run` end to end with the live embedded model: JSON per task, ledger CSV,
traffic graph, and clear errors for a bad topology, pattern or endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def _team(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierlink.cli", "team", "run", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})


@pytest.mark.model
def test_team_run_json_ledger_and_graph(tmp_path: Path) -> None:
    done = _team("--pattern", "debate", "--topology", "sparse:1", "--agents", "3", "--rounds", "1", "--limit", "2",
                 "--max-tokens", "4", "--json", "--ledger-csv", str(tmp_path / "l.csv"), "--graph", str(tmp_path / "g.png"))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 2 and all(r["pattern"] == "debate" and r["rounds"] == 2 and r["model_tokens"] > 0 for r in rows)
    ledger = pd.read_csv(tmp_path / "l.csv")
    assert len(ledger) == sum(r["messages"] for r in rows) == 2 * 3  # sparse:1 -> 3 edges, one revision round
    assert ledger["bytes"].sum() == sum(r["message_bytes"] for r in rows)
    assert (tmp_path / "g.png").stat().st_size > 10_000


@pytest.mark.model
def test_team_run_table() -> None:
    done = _team("--pattern", "hierarchical", "--topology", "star", "--agents", "3", "--rounds", "1", "--limit", "1", "--max-tokens", "4")
    assert done.returncode == 0, done.stderr
    assert "hierarchical over star" in done.stdout and "near chance" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--topology", "mesh"), "topology"),
    (("--pattern", "swarm"), "--pattern"),
    (("--endpoints", "nope"), "unknown endpoint 'nope'"),
    (("--guard", "trusted"), "guard 'trusted' is a supervisor's rule"),
    (("--guard", "maybe"), "--guard"),
])
def test_team_run_errors_are_clear(args: tuple[str, ...], message: str) -> None:
    done = _team(*args, "--limit", "1")
    assert done.returncode == 2 and message in done.stdout and "Traceback" not in done.stdout + done.stderr
