"""`tierlink bench ...`: evaluate routers on recorded outcomes (thin wrappers over tierlink.bench)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tierlink.bench.baselines import BASELINES, baseline
from tierlink.bench.datasets import dataset_spec, load_from
from tierlink.bench.evaluate import Evaluation, Prepared, curves_for, evaluate, prepare
from tierlink.bench.metrics import pareto_frontier
from tierlink.bench.nway import oracle_frontier, outcome_matrices, single_model_points
from tierlink.bench.pair import FloatArray
from tierlink.bench.plots import plot_curves, plot_selection
from tierlink.bench.report import metric_cells, write_report
from tierlink.bench.scores import read_scores, write_scores
from tierlink.bench.splits import default_test_fraction
from tierlink.cli_case_study import conversations
from tierlink.cli_fail import fail
from tierlink.core.errors import TierlinkError

bench_app = typer.Typer(no_args_is_help=True, help="Evaluate routers on recorded outcomes of real models.")

Outcomes = Annotated[str, typer.Option("--outcomes", "-o", help="Dataset key (see `bench datasets`) or an outcome table file.")]
DataRoot = Annotated[Path | None, typer.Option(help="Folder holding the full datasets (e.g. ../shared/data/outcomes); default: the slices shipped with tierlink.")]
Weak = Annotated[str | None, typer.Option(help="Weak model; default: the dataset's.")]
Strong = Annotated[str | None, typer.Option(help="Strong model; default: the dataset's.")]
TestFraction = Annotated[float | None, typer.Option(min=0.01, max=1.0, help="Share of prompts in the test split (1: all of them); default 0.3 for a dataset key, 1 for a table file (a user's own test table).")]
Seed = Annotated[int, typer.Option(help="Split (and random router) seed.")]
SourceSplit = Annotated[bool, typer.Option("--source-split", help="Use the dataset's own train/test split.")]
Points = Annotated[int | None, typer.Option(help="Read the curve at N evenly spaced cut-offs (RouteLLM uses 10); default exact.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _prepare(outcomes: str, data_root: Path | None, weak: str | None, strong: str | None,
             test_fraction: float | None, seed: int, source_split: bool) -> Prepared:
    """The test split evaluated: a dataset key's 30% hash split, a table file whole (unless told
    otherwise); which one it is goes to stderr, so no table is cut silently."""
    console = Console(stderr=True)
    with console.status(f"loading {outcomes}"):
        frame = load_from(outcomes, data_root)
    if weak is None or strong is None:
        if Path(outcomes).suffix:
            raise TierlinkError("give --weak and --strong for an outcome table file")
        spec = dataset_spec(outcomes)
        weak, strong = weak or spec.weak, strong or spec.strong
    fraction = test_fraction if test_fraction is not None else default_test_fraction(outcomes)
    prepared = prepare(outcomes, frame, weak, strong, fraction, seed, source_split)
    console.print(f"[dim]evaluating {_split_words(prepared, fraction, frame['prompt_id'].nunique())}[/]")
    return prepared


def _split_words(prepared: Prepared, fraction: float, prompts: int) -> str:
    """Which prompts of the table are the test split, in words."""
    if prepared.split.source_split:
        return f"the table's own test split ({prepared.split.test_prompts} of {prompts} prompts)"
    if fraction >= 1:
        return f"all {prompts} prompts of the table"
    return (f"a {fraction:.0%} hash split: {prepared.split.test_prompts} of {prompts} prompts "
            "(--test-fraction 1 evaluates all of them)")


def _metrics_table(evaluation: Evaluation) -> Table:
    first = next(iter(evaluation.overall.values()))
    table = Table(title=f"{evaluation.dataset}: {evaluation.weak} → {evaluation.strong}, {first.prompts} test prompts")
    for column in ("router", "APGR", "CPT(50%)", "CPT(80%)", "AIQ", "ΔIBC %"):
        table.add_column(column, justify="right")
    for name, m in evaluation.overall.items():
        table.add_row(name, *metric_cells(m))
    return table


def _print(evaluation: Evaluation, as_json: bool) -> None:
    if as_json:
        typer.echo(evaluation.model_dump_json(indent=2))
        return
    console = Console()
    console.print(_metrics_table(evaluation))
    first = next(iter(evaluation.overall.values()))
    if first.strong_quality <= first.weak_quality:
        console.print(f"[yellow]warning:[/] {evaluation.strong} is not better than {evaluation.weak} on this split; "
                      "PGR-based metrics are not meaningful (swap --weak and --strong?)")
    console.print(f"[dim]quality: {evaluation.quality_origin}; cost: {evaluation.cost_origin}; "
                  f"train prompts {evaluation.split.train_prompts} ({evaluation.split.leaked_removed} leaks removed)[/]")


@bench_app.command()
def datasets() -> None:
    """List the named datasets, their default weak/strong models and licences."""
    from tierlink.bench.loaders import DATASETS

    table = Table(title="outcome datasets (recorded results of real models: replay)")
    for column in ("key", "weak", "strong", "licence", "what"):
        table.add_column(column, overflow="fold")
    for spec in DATASETS.values():
        table.add_row(spec.key, spec.weak, spec.strong, spec.licence, spec.description)
    Console().print(table)


@bench_app.command()
def route(
    outcomes: Outcomes,
    router: Annotated[str, typer.Option(help=f"One of: {', '.join(BASELINES)}.")],
    out: Annotated[Path, typer.Option(help="Where to write prompt_id,score for the test split.")],
    weak: Weak = None, strong: Strong = None, data_root: DataRoot = None,
    test_fraction: TestFraction = None, seed: Seed = 0, source_split: SourceSplit = False,
    as_json: AsJson = False,
) -> None:
    """Score the test split with a baseline router, write the scores, and print its metrics."""
    try:
        prepared = _prepare(outcomes, data_root, weak, strong, test_fraction, seed, source_split)
        scores = baseline(router)(prepared.pair, seed)
        write_scores(prepared.pair.prompt_ids, scores, out)
        evaluation = evaluate(prepared, {router: scores}, by_task=False)
    except TierlinkError as exc:
        fail(exc)
    _print(evaluation, as_json)
    if not as_json:
        Console().print(f"[dim]wrote {len(prepared.pair)} scores to {out}[/]")


@bench_app.command()
def curve(
    outcomes: Outcomes,
    scores: Annotated[Path, typer.Option(help="CSV of prompt_id,score (higher = more benefit from the strong model).")],
    weak: Weak = None, strong: Strong = None, data_root: DataRoot = None,
    test_fraction: TestFraction = None, seed: Seed = 0, source_split: SourceSplit = False,
    points: Points = None, png: Annotated[Path | None, typer.Option(help="Where to write the curve PNG.")] = None,
    as_json: AsJson = False,
) -> None:
    """Metrics of any router's scores on the test split, against random and oracle, plus a PNG."""
    try:
        prepared = _prepare(outcomes, data_root, weak, strong, test_fraction, seed, source_split)
        given = {scores.stem: prepared.pair.align_scores(read_scores(scores))}
        evaluation = evaluate(prepared, given, points=points, by_task=False)
        png = png or scores.with_suffix(".png")
        plot_curves(curves_for(prepared.pair, given, points), prepared.pair.weak, prepared.pair.strong,
                    f"{outcomes}: {prepared.pair.weak} vs {prepared.pair.strong}", png,
                    f"quality {evaluation.quality_origin}; cost {evaluation.cost_origin}")
    except TierlinkError as exc:
        fail(exc)
    _print(evaluation, as_json)
    if not as_json:
        Console().print(f"[dim]curve written to {png}[/]")


@bench_app.command()
def report(
    outcomes: Outcomes,
    out: Annotated[Path, typer.Option(help="Folder for report.md and PNG figures.")],
    routers: Annotated[str, typer.Option(help="Comma-separated baseline routers to include.")] = "prompt-length",
    scores: Annotated[list[Path] | None, typer.Option(help="Extra scores files (repeatable); named by file stem.")] = None,
    weak: Weak = None, strong: Strong = None, data_root: DataRoot = None,
    test_fraction: TestFraction = None, seed: Seed = 0, source_split: SourceSplit = False,
    points: Points = None,
) -> None:
    """Write a markdown report with figures: every router against random and oracle, per task too."""
    try:
        prepared = _prepare(outcomes, data_root, weak, strong, test_fraction, seed, source_split)
        names = [r.strip() for r in routers.split(",") if r.strip() and r.strip() not in ("random", "oracle")]
        given: dict[str, FloatArray] = {}
        with Progress(transient=True) as progress:
            task = progress.add_task("scoring", total=len(names) + len(scores or []))
            for name in names:
                given[name] = baseline(name)(prepared.pair, seed)
                progress.advance(task)
            for path in scores or []:
                given[path.stem] = prepared.pair.align_scores(read_scores(path))
                progress.advance(task)
        evaluation = evaluate(prepared, given, points=points)
        path = write_report(evaluation, curves_for(prepared.pair, given, points), out)
    except TierlinkError as exc:
        fail(exc)
    Console().print(_metrics_table(evaluation))
    Console().print(f"[dim]report: {path}[/]")


@bench_app.command()
def nway(
    outcomes: Outcomes,
    data_root: DataRoot = None,
    png: Annotated[Path | None, typer.Option(help="Where to write the cost-quality PNG.")] = None,
    learned: Annotated[bool, typer.Option(help="Train the N-way router on the train split and evaluate it on the test split.")] = True,
    save: Annotated[Path | None, typer.Option(help="Save the trained N-way router here, for the session policy `nway`.")] = None,
    seed: Seed = 0,
    source_split: SourceSplit = False,
    as_json: AsJson = False,
) -> None:
    """N-way selection under the price table: every model's (cost, quality), the Pareto set, the
    oracle frontier and (trained on the train split) the learned N-way router's frontier, with AIQ."""
    from tierlink.bench.splits import split_outcomes
    from tierlink.learn.embeddings import EmbeddingCache
    from tierlink.learn.nway import NWayRouter, evaluate_nway

    try:
        frame = load_from(outcomes, data_root)
        frame = frame.dropna(subset=["cost_usd"]) if "cost_usd" in frame else frame
        outcome_matrices(frame)  # clear error when there is no price table
        train, test, _ = split_outcomes(frame, 0.3, seed, source_split)
        with Console(stderr=True).status("training the N-way router" if learned else "evaluating"):
            cache = EmbeddingCache()
            router = NWayRouter().fit(train, cache) if learned or save is not None else None
            if router is not None and save is not None:
                router.save(save)
            evaluation = evaluate_nway(router, test, cache) if router is not None else None
        scores, costs = outcome_matrices(test)
    except TierlinkError as exc:
        fail(exc)
    singles = single_model_points(scores, costs)
    pareto = set(pareto_frontier(np.array([p.cost for p in singles]), np.array([p.quality for p in singles])).tolist())
    frontier = oracle_frontier(scores, costs)
    estimated = frame.get("estimated")
    cost_note = "simulated (estimated)" if estimated is not None and estimated.fillna("").str.contains("cost_usd").any() else "replay"
    if as_json:
        typer.echo(json.dumps({
            "prompts": len(scores),
            "models": [p.model_dump() | {"pareto": i in pareto} for i, p in enumerate(singles)],
            "oracle_frontier": [p.model_dump() for p in frontier],
            "learned": evaluation.model_dump() if evaluation is not None else None,
        }, indent=2))
        return
    table = Table(title=f"{outcomes}: {len(scores)} test prompts answered by all {len(singles)} priced models")
    for column in ("model", "quality", "$ / prompt", "Pareto"):
        table.add_column(column, justify="right")
    for i, p in sorted(enumerate(singles), key=lambda item: item[1].cost):
        table.add_row(p.label, f"{p.quality:.3f}", f"{p.cost:.3g}", "✓" if i in pareto else "")
    console = Console()
    console.print(table)
    if evaluation is not None:
        console.print(f"AIQ over the single models' cost range: learned N-way router {evaluation.aiq_router:.4f}, "
                      f"best single models (their hull) {evaluation.aiq_best_single:.4f}, oracle {evaluation.aiq_oracle:.4f}")
    path = png or Path(f"{Path(outcomes).stem}-nway.png")
    plot_selection([(p.label, p.cost, p.quality) for p in singles], [(p.cost, p.quality) for p in frontier],
                   f"{outcomes}: N-way selection", path, f"quality replay; cost {cost_note}",
                   learned=[(p.cost, p.quality) for p in evaluation.router] if evaluation is not None else None)
    console.print(f"[dim]quality: replay; cost: {cost_note}; figure: {path}[/]")




bench_app.command()(conversations)
