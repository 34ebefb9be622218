"""`tierlink bench conversations`: the case study (Fig. 4), policies on multi-turn conversations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tierlink.cli_fail import fail
from tierlink.core.errors import TierlinkError

if TYPE_CHECKING:
    from tierlink.bench.case_study_run import PolicySummary
    from tierlink.bench.conversations import CaseStudy
    from tierlink.routing.policy import Policy

CASE_POLICIES = ("always-device", "always-cloud", "random", "threshold", "cascade", "budget-pacing", "llm-router", "oracle")
DataRoot = Annotated[Path | None, typer.Option(help="Folder holding the full datasets (e.g. ../shared/data/outcomes); default: the slices shipped with tierlink.")]
Seed = Annotated[int, typer.Option(help="Split (and random router) seed.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def conversations(
    count: Annotated[int, typer.Option("--conversations", "-n", min=1, help="Number of conversations.")] = 60,
    seed: Seed = 0,
    data_root: DataRoot = None,
    policies: Annotated[str, typer.Option(help="Comma-separated policies to compare.")] = ",".join(CASE_POLICIES),
    budget_s: Annotated[float, typer.Option(help="Latency budget per conversation (s).")] = 30.0,
    budget_usd: Annotated[float, typer.Option(help="Dollar budget per conversation.")] = 0.05,
    link: Annotated[str, typer.Option(help="Link profile between robot and cloud.")] = "5g",
    cascade_tokens: Annotated[int, typer.Option(help="Cascade: accept device drafts up to this many tokens.")] = 150,
    learned: Annotated[Path | None, typer.Option(help="Also run the `learned` policy with this trained router.")] = None,
    rl: Annotated[list[Path] | None, typer.Option(help="Also run the `rl` policy trained in this directory (repeatable: one per seed).")] = None,
    router_models: Annotated[str, typer.Option(help="Catalogue models (`tierlink models`) that `llm-router` runs as, comma-separated, "
                                                    "one policy each; 'all' for every installed one.")] = "gemma-3-270m",
    split: Annotated[str, typer.Option(help="Questions from the test split (trained routers never saw them), train, or all.")] = "test",
    png: Annotated[Path, typer.Option(help="Where to draw Fig. 4 (quality vs latency and cost).")] = Path("fig4.png"),
    as_json: AsJson = False,
) -> None:
    """The case study: policies on multi-turn conversations built from recorded outcomes (Fig. 4)."""
    import asyncio
    from functools import partial

    from tierlink.bench.case_study_run import run_policy
    from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, build_case_study
    from tierlink.core.budget import Budget
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.network.link import Link
    from tierlink.network.registry import link_profiles
    from tierlink.routing.relevance import default_scorer

    console = Console(stderr=as_json)
    names = [p.strip() for p in policies.split(",") if p.strip()]
    if learned is not None and "learned" not in names:
        names.append("learned")
    rl_dirs = {f"rl({path.name})": path for path in rl or []}
    names += list(rl_dirs)
    try:
        names = _with_router_models(names, router_models)
        with console.status("building conversations from recorded outcomes"):
            if split not in ("test", "train", "all"):
                raise TierlinkError(f"--split must be test, train or all, not '{split}'")
            case = build_case_study(count, seed, data_root, split=split)  # type: ignore[arg-type]
        profiles = endpoint_profiles()
        device, cloud = profiles[CASE_DEVICE], profiles[CASE_CLOUD]
        path = Link.from_profile(link, "robot", "cloud", link_profiles().require(link, "--link"))
        factory = _policy_factory(names, learned, rl_dirs, seed, cascade_tokens, case)
        scorer = default_scorer()
        budget = Budget(latency_s=budget_s, dollars=budget_usd)
        summaries: list[PolicySummary] = []
        with Progress(console=console, transient=True) as progress:
            for name in names:
                task = progress.add_task(name, total=len(case.conversations))
                summaries.append(asyncio.run(run_policy(
                    name, partial(factory, name), case, budget, path, device, cloud, scorer,
                    partial(progress.advance, task))))
    except TierlinkError as exc:
        fail(exc)
    _report(console, summaries, names, case, budget_s, budget_usd, link, png, as_json, (device.name, cloud.name))


def _report(console: Console, summaries: list[PolicySummary], names: list[str], case: CaseStudy, budget_s: float,
            budget_usd: float, link: str, png: Path, as_json: bool, tiers: tuple[str, str]) -> None:
    """Fig. 4, then the table (or JSON), each saying where its figures come from."""
    from tierlink.bench.plots import plot_tradeoffs

    count = len(case.conversations)
    origin = "quality replay; latency, dollars, attachment effect simulated" + (
        "; llm-routers' own calls live on this CPU (measured latency charged)" if any(map(_is_llm_router, names)) else "")
    plot_tradeoffs([(s.policy, s.mean_latency_s, s.mean_dollars, s.mean_quality) for s in summaries],
                   f"case study: {count} conversations ({case.sources}), budget {budget_s:g} s / ${budget_usd:g}",
                   png, origin)
    if as_json:
        typer.echo(json.dumps([s.model_dump() for s in summaries], indent=2))
        return
    console.print(_table(summaries, f"case study: {count} conversations, {sum(len(c.turns) for c in case.conversations)} "
                                    f"turns, budget {budget_s:g} s and ${budget_usd:g} each, link {link}"))
    console.print(f"[dim]{origin}; device {tiers[0]}, cloud {tiers[1]}; figure: {png}[/]")


def _policy_factory(names: list[str], learned: Path | None, rl_dirs: dict[str, Path], seed: int,
                    cascade_tokens: int, case: CaseStudy) -> Callable[[str], Policy]:
    """Each named policy with the case study's parameters; trained ones load once (they are
    stateless). Every name is tried here, so an unknown one fails before any work."""
    from tierlink.routing.policy import make_policy

    loaded: dict[str, Policy] = {}

    def factory(name: str) -> Policy:
        if name in loaded:
            return loaded[name]
        if _is_llm_router(name):  # stateless; its live calls are recorded for the unconstrained rerun
            from tierlink.bench.recorded_calls import catalogue_router

            loaded[name] = make_policy("llm-router", router=catalogue_router(name[len("llm-router("):-1]))
            return loaded[name]
        if name in rl_dirs:
            loaded[name] = make_policy("rl", model=str(rl_dirs[name]))
            return loaded[name]
        if name == "oracle":  # a reference that reads the records (benchmark-only information)
            from tierlink.bench.oracle import OraclePolicy

            loaded[name] = OraclePolicy(case)  # stateless: one index of the records for every conversation
            return loaded[name]
        if name == "learned":
            if learned is None:
                raise TierlinkError("the learned policy needs --learned DIR (a router from `tierlink route train`)")
            loaded[name] = make_policy("learned", model=str(learned))
            return loaded[name]
        from tierlink.bench.case_study_run import PER_QUERY_POLICIES

        params = dict(PER_QUERY_POLICIES.get(name, {}))  # the one table of the case study's parameters
        overrides = {"random": {"seed": seed}, "cascade": {"max_draft_tokens": cascade_tokens}}  # the command's options
        return make_policy(name, **(params | overrides.get(name, {})))

    for name in names:
        factory(name)
    return factory


def _with_router_models(names: list[str], router_models: str) -> list[str]:
    """`llm-router` replaced by one `llm-router(MODEL)` per catalogue model asked for."""
    if "llm-router" not in names:
        return names
    from tierlink.endpoints.model_catalogue import model_catalogue

    catalogue = model_catalogue()
    if router_models.strip() == "all":
        models = [name for name, model in catalogue.items() if model.installed]
        if not models:
            raise TierlinkError("--router-models all: no catalogue model is installed; run `tierlink models pull NAME`")
    else:
        models = [catalogue.require(m.strip(), "--router-models").name for m in router_models.split(",") if m.strip()]
    at = names.index("llm-router")
    return names[:at] + [f"llm-router({m})" for m in models] + [n for n in names[at + 1:] if n != "llm-router"]


def _is_llm_router(name: str) -> bool:
    return name.startswith("llm-router(") and name.endswith(")")


def _table(summaries: list[PolicySummary], title: str) -> Table:
    table = Table(title=title)
    for column in ("policy", "quality", "s/conv", "$/conv", "cloud", "views", "over s", "over $", "refused",
                   "down-tier", "no budget: quality", "no budget: over s / $ / any"):
        table.add_column(column, justify="right")
    for s in summaries:
        free = "-" if s.unconstrained_over_any is None else \
            f"{s.unconstrained_over_latency} / {s.unconstrained_over_dollars} / {s.unconstrained_over_any} of {s.conversations}"
        table.add_row(s.policy, f"{s.mean_quality:.3f}", f"{s.mean_latency_s:.1f}", f"{s.mean_dollars:.4f}",
                      f"{100 * s.cloud_share:.0f}%", f"{s.attachments_per_cloud_turn:.1f}", str(s.latency_over_budget),
                      str(s.dollar_over_budget), str(s.refusals), str(s.down_tier),
                      "-" if s.unconstrained_quality is None else f"{s.unconstrained_quality:.3f}", free)
    return table
