"""`tierlink bench` as a user runs it: route, curve (the scoring contract) and report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tierlink.data import shipped

TABLE = str(shipped("routerarena_mcq.csv"))
PAIR = ["--weak", "claude-3-haiku-20240307", "--strong", "gemini-2.0-flash-001"]


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run([sys.executable, "-m", "tierlink.cli", "bench", *args], capture_output=True, text=True, timeout=120, env=env)


def test_route_writes_scores_for_the_test_split(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = _bench("route", "-o", TABLE, *PAIR, "--router", "prompt-length", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    evaluation = json.loads(result.stdout)
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["prompt_id", "score"]
    assert len(scores) == evaluation["split"]["test_prompts"] == evaluation["overall"]["random"]["prompts"]
    assert evaluation["overall"]["random"]["apgr"] == pytest.approx(0.5)
    assert evaluation["quality_origin"] == "replay" and "replay" in evaluation["cost_origin"]


def test_curve_reads_any_scores_file_and_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "oracle.csv"
    assert _bench("route", "-o", TABLE, *PAIR, "--router", "oracle", "--out", str(out)).returncode == 0
    external = tmp_path / "mine.csv"
    frame = pd.read_csv(out)
    frame.assign(score=-frame["score"]).to_csv(external, index=False)  # a deliberately bad router
    result = _bench("curve", "-o", TABLE, *PAIR, "--scores", str(external), "--json")
    assert result.returncode == 0, result.stderr
    overall = json.loads(result.stdout)["overall"]
    assert overall["mine"]["apgr"] < overall["random"]["apgr"] < overall["oracle"]["apgr"]
    png = external.with_suffix(".png")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_users_own_table_is_evaluated_whole_and_a_cut_is_said(tmp_path: Path) -> None:
    prompts = pd.read_csv(TABLE)["prompt_id"].nunique()
    out = tmp_path / "s.csv"
    whole = _bench("route", "-o", TABLE, *PAIR, "--router", "prompt-length", "--out", str(out), "--json")
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["split"]["test_prompts"] == prompts == len(pd.read_csv(out))
    assert f"all {prompts} prompts of the table" in whole.stderr
    cut = _bench("curve", "-o", TABLE, *PAIR, "--scores", str(out), "--test-fraction", "0.3", "--json")
    assert cut.returncode == 0, cut.stderr
    assert 0.2 * prompts < json.loads(cut.stdout)["split"]["test_prompts"] < 0.4 * prompts
    assert "30% hash split" in cut.stderr and "--test-fraction 1 evaluates all" in cut.stderr


def test_curve_rejects_incomplete_scores(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert _bench("route", "-o", TABLE, *PAIR, "--router", "random", "--out", str(out)).returncode == 0
    pd.read_csv(out).iloc[:5].to_csv(out, index=False)
    result = _bench("curve", "-o", TABLE, *PAIR, "--scores", str(out))
    assert result.returncode == 2 and "have no score" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_report_writes_markdown_and_figure(tmp_path: Path) -> None:
    result = _bench("report", "-o", TABLE, *PAIR, "--routers", "prompt-length,always-strong", "--out", str(tmp_path / "rep"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "**replay**" in text and "prompt-length" in text and "(point)" in text
    assert "APGR per task" in text and (tmp_path / "rep" / "curve.png").exists()


def test_unknown_router_and_model_are_clean_errors(tmp_path: Path) -> None:
    result = _bench("route", "-o", TABLE, *PAIR, "--router", "clever", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "unknown baseline router" in result.stdout
    result = _bench("route", "-o", TABLE, "--weak", "gpt-2", "--strong", "gemini-2.0-flash-001", "--router", "random", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "no rows for model 'gpt-2'" in result.stdout


def test_nway_lists_models_pareto_and_oracle_frontier(tmp_path: Path) -> None:
    png = tmp_path / "nway.png"
    result = _bench("nway", "-o", "zeroeval-gsm8k", "--png", str(png), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    models = data["models"]
    assert len(models) >= 20 and any(m["pareto"] for m in models)
    frontier = data["oracle_frontier"]
    best_single = max(m["quality"] for m in models)
    assert frontier[-1]["quality"] >= best_single  # per-prompt choice never loses to one model
    assert [p["cost"] for p in frontier] == sorted(p["cost"] for p in frontier)
    learned = data["learned"]
    assert learned["prompts"] == data["prompts"] and learned["router"]
    assert learned["aiq_oracle"] >= learned["aiq_router"] > 0


def test_named_datasets_load_from_the_shipped_slices(tmp_path: Path) -> None:
    result = _bench("datasets")
    assert result.returncode == 0
    for key in ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench", "llmrouter", "routerarena", "zeroeval-gsm8k"):
        assert key in result.stdout
    out = tmp_path / "s.csv"
    result = _bench("route", "-o", "llmrouter", "--source-split", "--router", "oracle", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    evaluation = json.loads(result.stdout)
    assert evaluation["split"]["source_split"] and evaluation["split"]["leaked_removed"] > 0
    assert "simulated" in evaluation["cost_origin"]
