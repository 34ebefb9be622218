"""The `learned` policy: a router trained by `tierlink route train`, served in the session.

The router scores the turn's question (a post-hoc router: the question and the device's draft,
with the live signals it was trained on, drawn as `route collect-drafts` drew them); at or above the threshold (the calibrated one saved
with the router, or the one given here) the turn goes to the most capable remote endpoint.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.routers.base import load_router
from tierlink.routing.draft_signals import signal_values
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState


class LearnedPolicy(Policy):
    """Serves a router trained by `tierlink route train`: remote at or above its threshold."""

    name: ClassVar[str] = "learned"

    def __init__(self, model: str | Path, threshold: float | None = None, target: str | None = None) -> None:
        self.router, self.meta = load_router(Path(model))
        chosen = threshold if threshold is not None else self.meta.threshold
        self.threshold = 0.5 if chosen is None else chosen
        self.target = target
        self.cache = EmbeddingCache()

    async def decide(self, state: TurnState) -> Action:
        """Draft first for a post-hoc router; then score the turn against the threshold."""
        post_hoc = self.meta.needs_draft
        if post_hoc and state.draft is None:
            if not state.remote_candidates():
                return Action(endpoint=state.device, reason="learned: no remote endpoint reachable; the device answers")
            return Action(endpoint=state.device, reason="learned post-hoc: draft first", draft=True,
                          samples=self.meta.samples if self.meta.signals else 0,
                          self_check="self_check" in self.meta.signals)
        prompts = Prompts(np.asarray([state.request.prompt_id or "turn"]), [state.request.last_user_text], [None])
        if post_hoc and state.draft is not None:
            signals = signal_values(state.draft, state.samples, state.self_check)
            prompts = replace(prompts, drafts=[state.draft.text], draft_tokens=[float(state.draft.usage.output_tokens)],
                              signals={name: np.asarray([signals[name]]) for name in self.meta.signals})
        score = float(self.router.score(prompts, self.cache)[0])
        label = f"learned {self.meta.router}: score {score:.2f}"
        if score >= self.threshold:
            return Action(endpoint=pick_remote(state, self.target), reason=f"{label} >= {self.threshold:.2f}")
        return Action(endpoint=state.device, reason=f"{label} < {self.threshold:.2f}", use_draft=post_hoc)
