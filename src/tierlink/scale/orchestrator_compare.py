"""The learned orchestrator against full debate, the best fixed sparse topology, AgentPrune-style
pruning, a plain vote and the settled-count rule, on the same replayed team and the same held-out
questions. Every choice a method makes (its topology, its pruned edges, its token weight, its
policy) is made on the training questions only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from tierlink.agents.pruning import edge_utility, prune
from tierlink.agents.result import TeamResult
from tierlink.agents.topology import Topology, parse_topology
from tierlink.scale.orchestrator import (
    accuracy_order,
    mean_right,
    orchestrate,
    right,
    settled_asks,
    train_orchestrator,
)
from tierlink.scale.team_replay import ReplayTeam, replay_debate

SPARSE_CANDIDATES = ("ring", "star", "chain", "sparse:2", "tree:2")
DEBATE_ROUNDS = 2
PRUNE_RATIO = 0.5


class MethodFigures(BaseModel):
    """One method on the test questions: means per question, and each question's outcome."""

    method: str
    detail: str
    accuracy: float
    message_tokens: float
    model_tokens: float
    rounds: float
    correct: list[bool]


def figures(method: str, detail: str, results: Sequence[TeamResult]) -> MethodFigures:
    """Means over runs, read from each run's ledger (messages: transfers; model tokens: charges)."""
    n = max(1, len(results))
    model = [r.total_usage for r in results]
    return MethodFigures(method=method, detail=detail, accuracy=mean_right(results),
                         message_tokens=sum(r.ledger.total().tokens for r in results) / n,
                         model_tokens=sum(u.input_tokens + u.output_tokens for u in model) / n,
                         rounds=sum(r.rounds for r in results) / n, correct=[right(r) for r in results])


def _debates(team: ReplayTeam, questions: Sequence[str], topology: Topology, rounds: int) -> list[TeamResult]:
    return [replay_debate(team, q, topology, rounds) for q in questions]


def best_sparse(team: ReplayTeam, train: Sequence[str]) -> tuple[str, int]:
    """The sparse topology and round count most accurate on the training questions (fewest
    message tokens among equals)."""
    best: tuple[float, float, str, int] | None = None
    for spec in SPARSE_CANDIDATES:
        for rounds in (1, DEBATE_ROUNDS):
            runs = _debates(team, train, parse_topology(spec, team.names), rounds)
            key = (-mean_right(runs), sum(r.ledger.total().tokens for r in runs), spec, rounds)
            best = key if best is None or key < best else best
    assert best is not None
    return best[2], best[3]


def weight_for(accuracy_at: Callable[[float], float], target: float, weights: Sequence[float]) -> float:
    """The largest token weight whose training accuracy still reaches `target` (the smallest weight if none does)."""
    reaching = [w for w in weights if accuracy_at(w) >= target]
    return max(reaching) if reaching else min(weights)


def compare(team: ReplayTeam, train: Sequence[str], test: Sequence[str], steps: int, seed: int,
            weights: Sequence[float]) -> tuple[list[MethodFigures], list[MethodFigures]]:
    """Every method's test figures, and the orchestrator's at each token weight (its sweep)."""
    full = parse_topology("full", team.names)
    train_full = _debates(team, train, full, DEBATE_ROUNDS)
    spec, rounds = best_sparse(team, train)
    pruned = prune(full, edge_utility(train_full, full), PRUNE_RATIO)
    order = accuracy_order(team, train)
    methods = [
        figures("full debate", f"full, {DEBATE_ROUNDS} rounds", _debates(team, test, full, DEBATE_ROUNDS)),
        figures("best sparse topology", f"{spec}, {rounds} round(s)", _debates(team, test, parse_topology(spec, team.names), rounds)),
        figures("pruned debate", f"{len(pruned.edges)} of {len(full.edges)} edges", _debates(team, test, pruned, DEBATE_ROUNDS)),
        figures("vote", "every agent once, no debate", _debates(team, test, full, 0)),
        figures("settled count", "by training accuracy, stop once settled", [settled_asks(team, q, order) for q in test]),
    ]
    model = train_orchestrator(team, train, steps=steps, seed=seed, max_token_weight=max(weights))
    def train_accuracy(w: float) -> float:
        return mean_right([orchestrate(model, team, q, w) for q in train])
    chosen = weight_for(train_accuracy, mean_right(train_full), weights)
    sweep = [figures("orchestrator", f"token weight {w:g}", [orchestrate(model, team, q, w) for q in test]) for w in weights]
    methods.append(next(f for f, w in zip(sweep, weights, strict=True) if w == chosen).model_copy(
        update={"method": "learned orchestrator", "detail": f"token weight {chosen:g} (chosen on training questions)"}))
    return methods, sweep
