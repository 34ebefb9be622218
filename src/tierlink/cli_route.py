"""`tierlink route ...`: train routers on recorded outcomes, score prompts, calibrate thresholds."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from tierlink.bench.datasets import dataset_spec, load_dataset, load_from
from tierlink.bench.evaluate import prepare
from tierlink.bench.pair import ModelPair
from tierlink.bench.scores import write_scores
from tierlink.bench.splits import default_test_fraction
from tierlink.cli_bench import DataRoot, Seed, SourceSplit
from tierlink.cli_drafts import collect_drafts_command, extend_drafts_command
from tierlink.cli_fail import fail
from tierlink.cli_self_route import self_train_command
from tierlink.core.errors import DataError, TierlinkError
from tierlink.learn import router_names
from tierlink.learn.calibrate import achieved, calibrate, parse_target
from tierlink.learn.data import Prompts, prompts_of
from tierlink.learn.embeddings import EmbeddingCache

route_app = typer.Typer(no_args_is_help=True, help="Train routers on recorded outcomes and score prompts with them.")
route_app.command("self-train")(self_train_command)
route_app.command("collect-drafts")(collect_drafts_command)
route_app.command("extend-drafts")(extend_drafts_command)


def _training_table(outcomes: str, data_root: Path | None, weak: str | None, strong: str | None,
                    seed: int, source_split: bool) -> tuple[pd.DataFrame, str, str]:
    """A file is all training data; a dataset key contributes its (leak-free) train split."""
    path = Path(outcomes)
    if path.suffix:
        if weak is None or strong is None:
            raise DataError(outcomes, "--weak and --strong are needed for an outcome table file", "name both models")
        return load_dataset(outcomes), weak, strong
    spec = dataset_spec(outcomes)
    frame = load_from(outcomes, data_root)
    weak, strong = weak or spec.weak, strong or spec.strong
    return prepare(outcomes, frame, weak, strong, 0.3, seed, source_split).train, weak, strong


def _graded_drafts(path: Path) -> pd.DataFrame:
    """Drafts written by `route collect-drafts`, checked to be gradeable training rows."""
    from tierlink.core.outcomes import read_outcomes

    if path.suffix.lower() != ".csv" or not path.is_file():
        raise DataError(str(path), "not a drafts CSV", "give the --out file of `tierlink route collect-drafts`")
    if "score" not in pd.read_csv(path, nrows=1).columns:
        raise DataError(str(path), "the drafts are not graded (no score column)",
                        "collect them from prompts with a gold column, so each draft is graded")
    rows = read_outcomes(path)
    if rows["model"].nunique() != 1:
        raise DataError(str(path), "drafts of more than one model", "collect one device model's drafts per file")
    return rows


class _Bar:
    """Adapts train_router's (stage, done, total) reports to a rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


@route_app.command()
def train(
    outcomes: Annotated[str, typer.Option("--outcomes", "-o", help="Outcome table file (all of it trains) or a dataset key (its train split).")],
    router: Annotated[str, typer.Option(help=f"best (cross-validated) or one of: {', '.join(router_names.ALL)}.")],
    out: Annotated[Path, typer.Option(help="Directory to save the trained router in.")],
    weak: Annotated[str | None, typer.Option()] = None,
    strong: Annotated[str | None, typer.Option()] = None,
    data_root: DataRoot = None,
    seed: Seed = 0,
    source_split: SourceSplit = False,
    drafts: Annotated[Path | None, typer.Option(help="Graded device drafts from `route collect-drafts`: their model becomes the weak one.")] = None,
) -> None:
    """Train a router (higher score = more benefit from the strong model) and save it."""
    from tierlink.learn.train import train_router  # scikit-learn and torch load only when used

    console = Console()
    try:
        if drafts is not None:
            device_rows = _graded_drafts(drafts)
            weak = str(device_rows["model"].iloc[0])
        frame, weak, strong = _training_table(outcomes, data_root, weak, strong, seed, source_split)
        if drafts is not None:
            frame = pd.concat([frame[frame["model"] != weak], device_rows], ignore_index=True)
        with Progress(console=console, transient=True) as progress:
            meta = train_router(frame, weak, strong, router, out, progress=_Bar(progress), seed=seed)
    except TierlinkError as exc:
        fail(exc)
    if meta.cv_apgr:
        from tierlink.learn.train import cv_repeats

        repeats = cv_repeats(meta.train_prompts)
        table = Table(title=f"cross-validated APGR on the training table (3 folds{f' x {repeats} shuffles' if repeats > 1 else ''})")
        table.add_column("router")
        table.add_column("APGR", justify="right")
        for name, value in sorted(meta.cv_apgr.items(), key=lambda kv: -kv[1]):
            table.add_row(name + (" (chosen)" if name == meta.router else ""), f"{value:.3f}")
        console.print(table)
    console.print(f"trained [bold]{meta.router}[/] on {meta.train_prompts} prompts ({weak} → {strong}); saved to {out}")


@route_app.command()
def score(
    model: Annotated[Path, typer.Option(help="A directory written by `tierlink route train`.")],
    out: Annotated[Path, typer.Option(help="Where to write prompt_id,score.")],
    prompts: Annotated[Path | None, typer.Option(help="CSV with prompt_id,prompt[,task][,draft] (draft: for post-hoc routers).")] = None,
    outcomes: Annotated[str | None, typer.Option("--outcomes", "-o", help="Or: a dataset key, to score its test split, or a table file, to score all of it.")] = None,
    data_root: DataRoot = None,
    seed: Seed = 0,
    source_split: SourceSplit = False,
    drafts: Annotated[Path | None, typer.Option(help="CSV of prompt_id,model,response: the router's weak model's answers become the drafts a post-hoc router reads.")] = None,
) -> None:
    """Score prompts with a trained router (the contract's second half)."""
    from tierlink.learn.train import score_prompts

    console = Console()
    try:
        batch = _prompts(model, prompts, outcomes, data_root, seed, source_split)
        if drafts is not None:
            batch = _with_drafts(batch, drafts, model)
        with console.status(f"scoring {len(batch)} prompts"):
            values = score_prompts(model, batch)
        write_scores(batch.prompt_ids, values, out)
    except TierlinkError as exc:
        fail(exc)
    console.print(f"wrote {len(batch)} scores to {out}")


def _with_drafts(batch: Prompts, path: Path, model: Path) -> Prompts:
    """The prompts with the weak model's recorded answers (from a prompt_id,model,response file) as drafts."""
    from tierlink.learn.routers.base import load_router

    if not path.is_file():
        raise DataError(str(path), "drafts file does not exist", "give a CSV with prompt_id,model,response")
    try:
        table = pd.read_csv(path, dtype={"prompt_id": str, "model": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"not a readable CSV ({exc})", "give a CSV with prompt_id,model,response") from exc
    missing = {"prompt_id", "model", "response"} - set(table.columns)
    if missing:
        raise DataError(str(path), f"missing column(s) {', '.join(sorted(missing))}", "give prompt_id,model,response")
    _, meta = load_router(model)
    rows = table[table["model"] == meta.weak].drop_duplicates("prompt_id").set_index("prompt_id")
    if rows.empty:
        known = ", ".join(sorted(table["model"].dropna().unique()))
        raise DataError(str(path), f"no drafts of the router's weak model '{meta.weak}' (models: {known})",
                        "give the answers of the model the router was trained with as weak")
    absent = [pid for pid in batch.prompt_ids if pid not in rows.index]
    if absent:
        raise DataError(str(path), f"{len(absent)} of {len(batch)} prompts have no draft, e.g. {absent[0]}",
                        "give a draft for every prompt scored")
    texts = rows["response"].reindex(batch.prompt_ids).fillna("").astype(str).tolist()
    return dataclasses.replace(batch, drafts=texts, draft_tokens=None, signals=None)  # lengths and signals of other drafts would mislead


def _prompts(model: Path, prompts: Path | None, outcomes: str | None, data_root: Path | None,
             seed: int, source_split: bool) -> Prompts:
    from tierlink.learn.routers.base import load_router


    if prompts is not None:
        if not prompts.is_file():
            raise DataError(str(prompts), "prompts file does not exist", "give a CSV with prompt_id,prompt[,task]")
        return Prompts.from_frame(pd.read_csv(prompts, dtype={"prompt_id": str}))
    if outcomes is None:
        raise DataError("score", "nothing to score", "give --prompts FILE or --outcomes KEY")
    _, meta = load_router(model)
    frame = load_from(outcomes, data_root)
    prepared = prepare(outcomes, frame, meta.weak, meta.strong, default_test_fraction(outcomes), seed, source_split)
    return prompts_of(prepared.pair, frame)


@route_app.command("calibrate")
def calibrate_command(
    model: Annotated[Path, typer.Option(help="A directory written by `tierlink route train`.")],
    outcomes: Annotated[str, typer.Option("--outcomes", "-o", help="Dataset key: threshold set on its train split, checked on its test split.")],
    target: Annotated[str, typer.Option(help="share:0.3 (strong-call share), dollars:0.002 (per query) or pgr:0.8.")],
    data_root: DataRoot = None,
    seed: Seed = 0,
    source_split: SourceSplit = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set the router's threshold for a target on held-in data; report the miss on test data."""
    from tierlink.learn.routers.base import META_FILE, load_router

    console = Console()
    try:
        kind, value = parse_target(target)
        router, meta = load_router(model)
        frame = load_from(outcomes, data_root)
        prepared = prepare(outcomes, frame, meta.weak, meta.strong, 0.3, seed, source_split)
        held_in = ModelPair.from_outcomes(prepared.train, meta.weak, meta.strong)
        cache = EmbeddingCache()
        held_scores = router.score(prompts_of(held_in, prepared.train), cache)
        result = calibrate(kind, value, held_in, held_scores)
        test = prepared.pair
        test_scores = router.score(prompts_of(test, frame), cache)
        result = result.model_copy(update={"test": achieved(kind, test, test_scores, result.threshold)})
        meta = meta.model_copy(update={"threshold": result.threshold, "threshold_target": target})
        (model / META_FILE).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    except TierlinkError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(result.model_dump() | {"miss": result.miss}))
        return
    console.print(f"target {target}: threshold {result.threshold:.4f}; held-in {result.held_in:.4f}, "
                  f"test {result.test:.4f} (miss {result.miss:+.4f}); saved in {model / META_FILE}")


@route_app.command("rl-train")
def rl_train(
    out: Annotated[Path, typer.Option(help="Directory to save the RL policy in.")],
    steps: Annotated[int, typer.Option(min=512, help="Environment steps (turns) to train for.")] = 30_000,
    seed: Annotated[int, typer.Option()] = 0,
    conversations: Annotated[int, typer.Option(min=10, help="Training conversations (a different seed than evaluation).")] = 200,
    link: Annotated[str, typer.Option(help="Link profile between robot and cloud.")] = "5g",
    data_root: DataRoot = None,
    latency_weight: Annotated[float | None, typer.Option(min=0, help="Reward weight on seconds / latency budget (default: 6).")] = None,
    cost_weight: Annotated[float | None, typer.Option(min=0, help="Reward weight on dollars / dollar budget (default: 0.3).")] = None,
    validation: Annotated[int, typer.Option(min=0, help="Validation conversations (train split) to keep the best checkpoint by; 0 keeps the last.")] = 100,
    budget_state: Annotated[bool, typer.Option(help="Show the policy the budget left (--no-budget-state: the ablation).")] = True,
) -> None:
    """Train the RL router (MaskablePPO) on the case-study conversations with sampled budgets."""
    from tierlink.learn.rl_env import COST_WEIGHT, LATENCY_WEIGHT
    from tierlink.learn.rl_train import train_rl

    latency_weight = LATENCY_WEIGHT if latency_weight is None else latency_weight
    cost_weight = COST_WEIGHT if cost_weight is None else cost_weight

    console = Console()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("training MaskablePPO", total=steps)
            meta = train_rl(out, steps, seed, conversations, link, data_root, latency_weight, cost_weight,
                            progress=lambda done: progress.update(task, completed=done), validation=validation,
                            budget_state=budget_state)
    except TierlinkError as exc:
        fail(exc)
    kept = f"kept step {meta.best_step} (validation reward {meta.validation_reward:.3f})" if meta.best_step is not None else "kept the last step"
    console.print(f"trained the RL router for {meta.steps} steps (seed {meta.seed}; {kept}); saved to {out}; "
                  f"serve it with policy `rl` (params: model={out})")
