"""Cascade: the device drafts; the draft is accepted or the turn escalates to the cloud.

Evidence (any subset): mean token log-probability and mean entropy (llama.cpp), the chosen
option letter's share of the probability on all letters (multiple choice), agreement of
k sampled drafts, a self-check verdict, and the draft's length (a long, rambling draft signals a
hard question; the one signal recorded outcomes also carry). Each enabled signal must pass.
"""

from __future__ import annotations

from typing import ClassVar

from tierlink.routing.draft_signals import (
    agreement,
    choice_share,
    mean_entropy,
    mean_logprob,
    self_check_yes,
)
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState


class CascadePolicy(Policy):
    """Accept the device draft when its signals clear the thresholds, else escalate."""

    name: ClassVar[str] = "cascade"

    def __init__(
        self,
        min_logprob: float | None = -1.0,
        max_entropy: float | None = None,
        min_choice_share: float | None = None,
        samples: int = 0,
        min_agreement: float = 0.5,
        self_check: bool = False,
        min_yes: float = 0.5,
        max_draft_tokens: int | None = None,
        target: str | None = None,
    ) -> None:
        self.min_logprob = min_logprob
        self.max_entropy = max_entropy
        self.min_choice_share = min_choice_share
        self.samples = samples
        self.min_agreement = min_agreement
        self.self_check = self_check
        self.min_yes = min_yes
        self.max_draft_tokens = max_draft_tokens
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        """Draft first; then accept it if every enabled check passes, else escalate to the remote."""
        remote = pick_remote(state, self.target)
        if state.draft is None:
            if not state.remote_candidates():
                return Action(endpoint=state.device, reason="cascade: no remote endpoint reachable; the device answers")
            return Action(endpoint=state.device, reason="cascade: draft first", draft=True,
                          samples=self.samples, self_check=self.self_check)
        failed: list[str] = []
        passed: list[str] = []
        checks = (
            ("logprob", mean_logprob(state.draft), self.min_logprob, True),
            ("entropy", mean_entropy(state.draft), self.max_entropy, False),
            ("choice share", choice_share(state.draft), self.min_choice_share, True),
            ("agreement", agreement(state.draft, state.samples), self.min_agreement if self.samples else None, True),
            ("self-check", self_check_yes(state.self_check), self.min_yes if self.self_check else None, True),
            ("draft length", float(state.draft.usage.output_tokens), self.max_draft_tokens, False),
        )
        for label, value, limit, at_least in checks:
            if limit is None:
                continue
            ok = value is not None and (value >= limit if at_least else value <= limit)
            shown = "n/a" if value is None else f"{value:.2f}"
            (passed if ok else failed).append(f"{label} {shown}{'>=' if at_least else '<='}{limit:g}" if ok else f"{label} {shown}")
        if failed:
            return Action(endpoint=remote, reason=f"cascade: escalate ({', '.join(failed)} failed)")
        return Action(endpoint=state.device, use_draft=True, reason=f"cascade: accept draft ({', '.join(passed) or 'no checks'})")
