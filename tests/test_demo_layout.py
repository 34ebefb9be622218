"""The demo's tables stay readable in an 80-column terminal: one line per turn, names unbroken."""

from __future__ import annotations

from rich.console import Console

from tierlink.cli_demo import _decision_table, _summary_table
from tierlink.core.budget import Budget
from tierlink.core.usage import Latency, Usage
from tierlink.demo import DemoRun, DemoTurn


def _run(policy: str, endpoints: list[str]) -> DemoRun:
    turns = [
        DemoTurn(turn=i + 1, prompt_id=f"p{i}", task="MMLUPro_computer_science_long_task_name", gold="B",
                 endpoint=endpoint, reason=f"{policy}: accept draft (choice share 0.97>=0.9, logprob -0.20>=-1)",
                 choice="B", correct=i % 2 == 0, usage=Usage(dollars=0.000037, latency=Latency(decode_s=1.9)),
                 budget_left=Budget(latency_s=28.1, dollars=0.04996), refused=False, fallback=False)
        for i, endpoint in enumerate(endpoints)
    ]
    return DemoRun(policy=policy, device="qwen1.5b", turns=turns)


def _render(table: object, width: int) -> list[str]:
    console = Console(width=width, record=True, force_terminal=False)
    console.print(table)
    return console.export_text().splitlines()


def test_decision_table_fits_80_columns_one_line_per_turn() -> None:
    run = _run("cascade", ["qwen1.5b", "cloud", "qwen1.5b"])
    lines = _render(_decision_table(run, Budget(latency_s=30, dollars=0.05), 80), 80)
    assert all(len(line) <= 80 for line in lines)
    rows = [line for line in lines if line.strip().startswith(("1 ", "2 ", "3 "))]
    assert len(rows) == 3  # no turn wraps onto a second line
    assert "accept draft" in rows[0] and "qwen1.5b" in rows[0]


def test_summary_keeps_policy_names_whole_at_80_columns() -> None:
    runs = [_run(name, ["qwen1.5b", "cloud"]) for name in ("cascade", "always-device", "always-cloud")]
    lines = _render(_summary_table(runs), 80)
    assert all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    assert "always-device" in text and "always-cloud" in text and "1/1" in text  # device ok: correct/accepted
