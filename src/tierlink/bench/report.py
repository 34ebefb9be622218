"""Markdown report and figures for one evaluation run, stating where every number comes from."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from tierlink import __version__
from tierlink.bench.curve import RoutingCurve
from tierlink.bench.evaluate import Evaluation
from tierlink.bench.metrics import RoutingMetrics
from tierlink.bench.plots import plot_curves


def code_version() -> str:
    """The git commit of the running code, or the package version outside a checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        )
    except OSError:
        return f"tierlink {__version__}"
    return result.stdout.strip() or f"tierlink {__version__}"


def metrics_rows(results: dict[str, RoutingMetrics]) -> list[str]:
    """The report's Markdown table of routers, header included, one row each."""
    lines = [
        "| router | APGR | CPT(50%) | CPT(80%) | AIQ | ΔIBC % |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in results.items():
        lines.append("| " + " | ".join([name, *metric_cells(m)]) + " |")
    return lines


def metric_cells(m: RoutingMetrics) -> list[str]:
    """APGR, CPT(50%), CPT(80%), AIQ, ΔIBC as display strings (fixed policies marked)."""
    label = " (point)" if m.kind == "point" else ""
    ibc = "n/a" if m.delta_ibc != m.delta_ibc else f"{m.delta_ibc:+.1f}"  # NaN check
    return [f"{m.apgr:.3f}{label}", f"{100 * m.cpt50:.1f}%", f"{100 * m.cpt80:.1f}%", f"{m.aiq:.4g}", ibc]


def write_report(evaluation: Evaluation, curves: dict[str, RoutingCurve], out_dir: Path) -> Path:
    """Write `report.md` and `curve.png` (plus one PNG per task) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first = next(iter(evaluation.overall.values()))
    title = f"{evaluation.dataset}: {evaluation.weak} vs {evaluation.strong}"
    origin = f"quality {evaluation.quality_origin}; cost {evaluation.cost_origin}"
    plot_curves(curves, evaluation.weak, evaluation.strong, title, out_dir / "curve.png", origin)
    split = evaluation.split
    lines = [
        f"# Routing evaluation: {title}",
        "",
        f"- date {date.today()}, code {code_version()}",
        f"- data set: `{evaluation.dataset}`; test split: {split.test_prompts} prompts "
        f"({'the source split' if split.source_split else 'hash of prompt id'}); "
        f"train: {split.train_prompts} prompts after removing {split.leaked_removed} that repeat a test prompt",
        f"- quality: **{evaluation.quality_origin}** (recorded outcomes of real models)",
        f"- cost: **{evaluation.cost_origin}**",
        f"- weak {evaluation.weak}: quality {first.weak_quality:.4f}, cost {first.weak_cost:.4g} {first.cost_unit}/prompt",
        f"- strong {evaluation.strong}: quality {first.strong_quality:.4f}, cost {first.strong_cost:.4g} {first.cost_unit}/prompt",
        f"- curve: {'exact (every threshold)' if evaluation.points is None else f'{evaluation.points} evenly spaced cut-offs'};"
        " `random` is the exact expectation of a random router, `oracle` the best any router can do",
        "",
        "## Overall",
        "",
        *metrics_rows(evaluation.overall),
        "",
        "![quality vs strong-model calls](curve.png)",
        "",
    ]
    if evaluation.per_task:
        routers = list(evaluation.overall)
        lines += ["## APGR per task", "", "| task | prompts | " + " | ".join(routers) + " |", "|---|---|" + "---|" * len(routers)]
        for task, results in evaluation.per_task.items():
            count = next(iter(results.values())).prompts
            lines.append(f"| {task} | {count} | " + " | ".join(f"{results[r].apgr:.3f}" for r in routers) + " |")
        lines.append("")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
