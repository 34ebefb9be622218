"""The learned orchestrator against full debate, the best fixed sparse topology, pruning, a plain
vote and the settled-count rule: accuracy and message tokens on held-out questions. (replay)

Teams of K agents are drawn at random from a recorded-outcome set's models (ZeroEval GSM8K's 42,
LLMRouter's 9; a score of 0.5 or more counts as right); each agent answers as its model was
recorded; revisions take the plurality, and a wrong answer is one
of 3 values (simulation assumptions, `scale/team_replay.py`). Questions are split per team draw
into training and test; the orchestrator (MaskablePPO), the sparse topology, the pruned edges and
the orchestrator's token weight are all chosen on the training questions. Intervals: 95%
bootstrap over test questions pooled across team draws (paired differences).

    python benchmarks/orchestrator.py [--dataset llmrouter] [--teams 5 --agents 5 --steps 150000] [--data-root ../shared/data/outcomes]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.bench.intervals import mean_interval  # noqa: E402
from tierlink.scale.orchestrator_compare import MethodFigures, compare  # noqa: E402
from tierlink.scale.recorded_agents import RecordedAgents  # noqa: E402
from tierlink.scale.team_replay import ReplayTeam  # noqa: E402

WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def draw_team(recorded: RecordedAgents, agents: int, seed: int) -> tuple[ReplayTeam, list[str]]:
    """K models recorded on every question, drawn at random; the questions they all answered."""
    common = set.intersection(*(set(recorded.models_for(q)) for q in recorded.questions))
    models = random.Random(seed).sample(sorted(common), agents)
    return ReplayTeam(recorded, tuple(models), seed=seed), list(recorded.questions)


def pooled(per_team: list[list[MethodFigures]], method: str) -> tuple[np.ndarray, np.ndarray]:
    """One method's per-question outcomes and per-team mean message tokens, over every team."""
    rows = [next(f for f in team if f.method == method) for team in per_team]
    return np.concatenate([np.asarray(r.correct, dtype=float) for r in rows]), np.asarray([r.message_tokens for r in rows])


def report(per_team: list[list[MethodFigures]]) -> None:
    """Each method pooled over teams, against full debate."""
    base_right, base_tokens = pooled(per_team, "full debate")
    print("| method | accuracy (95% CI) | Δ accuracy vs full debate (paired 95% CI) | message tokens per question | vs full debate | model tokens per question | rounds |")
    print("|---|---|---|---|---|---|---|")
    for method in [f.method for f in per_team[0]]:
        right, tokens = pooled(per_team, method)
        rows = [next(f for f in team if f.method == method) for team in per_team]
        model = np.mean([r.model_tokens for r in rows])
        rounds = np.mean([r.rounds for r in rows])
        change = tokens.mean() / base_tokens.mean() - 1
        print(f"| {method} | {mean_interval(right)} | {mean_interval(right - base_right)} | {tokens.mean():,.0f} | "
              f"{change:+.1%} | {model:,.0f} | {rounds:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=5)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--train-share", type=float, default=0.6)
    parser.add_argument("--dataset", default="zeroeval-gsm8k", help="zeroeval-gsm8k, llmrouter, ...")
    parser.add_argument("--data-root", type=Path, default=None)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    recorded = RecordedAgents.load(args.dataset, args.data_root)
    print(f"# orchestrator.py, commit {commit}, {args.dataset}, {len(recorded.questions)} questions, {args.teams} teams of {args.agents}, "
          f"{args.steps} PPO steps (replay)")
    per_team = []
    for seed in range(args.teams):
        started = time.perf_counter()
        team, questions = draw_team(recorded, args.agents, seed)
        order = random.Random(1000 + seed).sample(questions, len(questions))
        cut = int(len(order) * args.train_share)
        methods, sweep = compare(team, order[:cut], order[cut:], args.steps, seed, WEIGHTS)
        per_team.append(methods)
        print(f"\n## team {seed}: {', '.join(team.models)} ({cut} train / {len(order) - cut} test questions, "
              f"{time.perf_counter() - started:.0f} s)")
        for f in methods + sweep:
            print(f"{f.method:22s} {f.detail:48s} acc {f.accuracy:.3f}  msg tokens {f.message_tokens:8.0f}  "
                  f"model tokens {f.model_tokens:8.0f}  rounds {f.rounds:.2f}")
    print()
    report(per_team)


if __name__ == "__main__":
    main()
