"""What the RL router observes and which actions it has, shared by training and serving.

The query's features include the score of a prompt-only router trained on the training
conversations' recorded outcomes (saved with the policy), so the agent can learn which turns
the device handles. Actions: the device, or the cloud with an attachment choice (none / the most relevant view /
all) and a context plan (full / last turn / none) — 10 in all. Observation: the turn's text
features, whether it seems to lean on the previous turn, the history (previous endpoint, context size, how much of it the cloud holds), the
remaining latency and dollar budget (as shares of the episode's budget and in log units), the
turns left and the link state.
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

from tierlink.context.history import HistoryPlan
from tierlink.core.budget import Budget
from tierlink.core.tokens import estimated_tokens_of
from tierlink.learn.text_features import NAMES, text_features
from tierlink.routing.state import Action, TurnState

ATTACHMENT_CHOICES = ("none", "best", "all")
PLANS = (HistoryPlan(kind="full"), HistoryPlan(kind="last_k", k=1), HistoryPlan(kind="none"))
ACTIONS: list[tuple[str, str, HistoryPlan | None]] = [("device", "none", None)] + [
    ("cloud", attach, plan) for attach in ATTACHMENT_CHOICES for plan in PLANS
]
OBS_DIM = len(NAMES) + 1 + 1 + 1 + 3 + 2 + 4 + 1 + 2
# Words by which a turn leans on the previous one ("rewrite your previous answer", "now do the same")
_REFERS_BACK = re.compile(
    r"\b(previous|above|earlier|original|your (?:own )?(?:response|answer|reply|solution|story|poem|essay|plan|code)|"
    r"rewrite|rephrase|revise|reformulate|amend|update|continue|again|instead|elaborate|more details|"
    r"the same|what if|them|its?)\b", re.IGNORECASE)
OBS_BOUND = 10.0  # every feature is clipped to [-10, 10]


def observe(state: TurnState, cloud: str, difficulty: float, budget_state: bool = True) -> npt.NDArray[np.float32]:
    """The observation vector for this turn (no benchmark-only information). `difficulty` is a
    prompt-only router's score for the question (how much the cloud is expected to help);
    without `budget_state` (the ablation) the four remaining-budget features read 0."""
    text = state.request.last_user_text
    previous = [state.last_endpoint is None, state.last_endpoint == state.device,
                state.last_endpoint not in (None, state.device)]
    history_tokens = estimated_tokens_of(state.history) if state.history else 0
    view = state.endpoints.get(cloud)
    held = (view.holds_messages / max(1, len(state.history))) if view is not None and state.history else 0.0
    budget = state.budget
    total_s = (budget.latency_s or 0.0) + state.spent_seconds
    total_usd = (budget.dollars or 0.0) + state.spent_dollars
    link = view.link if view is not None else None
    features = [
        *text_features([text])[0].tolist(),
        float(difficulty),
        float("camera" in text.lower()),
        float(state.history != () and bool(_REFERS_BACK.search(text))),
        *[float(p) for p in previous],
        math.log1p(history_tokens) / 10, min(1.0, held),
        *(_budget_features(budget, total_s, total_usd) if budget_state else (0.0, 0.0, 0.0, 0.0)),
        min(1.0, state.remaining_turns / 5),
        float(view is not None and view.reachable), (link.rtt_ms / 1000) if link is not None else 0.0,
    ]
    return np.clip(np.asarray(features, dtype=np.float32), -OBS_BOUND, OBS_BOUND)


def _budget_features(budget: Budget, total_s: float, total_usd: float) -> tuple[float, float, float, float]:
    """Shares of the latency and dollar budgets left, and their magnitudes (log scale)."""
    return ((budget.latency_s or 0.0) / total_s if total_s else 1.0,
            (budget.dollars or 0.0) / total_usd if total_usd else 1.0,
            math.log10(1e-3 + (budget.latency_s if budget.latency_s is not None else 1e3)) / 3,
            math.log10(1e-6 + (budget.dollars if budget.dollars is not None else 1e3)) / 6)


def to_action(index: int, state: TurnState, cloud: str, relevance: list[float]) -> Action:
    """The session Action of action `index` (the 'best' view is the most relevant one)."""
    endpoint, attach, plan = ACTIONS[index]
    if endpoint == "device":
        return Action(endpoint=state.device, reason="rl: device")
    count = len(state.request.attachments)
    chosen: tuple[int, ...] = ()
    if attach == "all":
        chosen = tuple(range(count))
    elif attach == "best" and count:
        chosen = (int(np.argmax(relevance)),) if relevance else (0,)
    label = plan.label() if plan is not None else "full"
    return Action(endpoint=cloud, attachments=chosen, history=plan,
                  reason=f"rl: cloud, attachments {attach}, history {label}")


def action_masks(state: TurnState, cloud: str, relevance: list[float]) -> npt.NDArray[np.bool_]:
    """The actions the session would accept now, by its own admissibility check (residency,
    reachability, worst case within the budget left), the same in training and in serving. The
    device is offered when it fits, or when no cloud action does (the last resort): choosing a
    device call that cannot fit would only refuse a turn the cloud could have answered."""
    if state.admissible is None:
        raise ValueError("the RL router needs a TurnState from a Session (it carries the admissibility check)")
    cloud_masks = [cloud != state.device and state.admissible(to_action(i, state, cloud, relevance))
                   for i in range(1, len(ACTIONS))]
    device_fits = state.admissible(to_action(0, state, cloud, relevance))
    return np.asarray([device_fits or not any(cloud_masks), *cloud_masks], dtype=bool)
