"""LLM-as-router (the paper's baseline): a prompted model judges whether the turn needs the cloud.

The router endpoint (often the device model itself) completes a short judgement prompt; the
log-probabilities of 'hard' vs 'easy' (or the text, when no log-probabilities are available)
decide. Its own call is reserved against the budget left before it is made (a router that does
not fit leaves the turn to the device) and reported as the action's overhead, so the session
charges it, with the turn's round, like any other call.
"""

from __future__ import annotations

from typing import ClassVar

from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Message, Request
from tierlink.endpoints.base import Endpoint
from tierlink.routing.calling import worst_case
from tierlink.routing.draft_signals import label_share
from tierlink.routing.policies.fixed import pick_remote
from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState

ASK = "{question}\n\nIs the question above easy or hard for a small assistant? Reply easy or hard."
# Two worked examples as earlier turns: base models (as a Question/Answer transcript) and chat
# models alike then answer with the label as their first token.
EXAMPLES = (
    Message(role="user", content=ASK.format(question="What is the capital of France?")),
    Message(role="assistant", content="easy"),
    Message(role="user", content=ASK.format(question="A train leaves at 3pm at 80 km/h and another at 4pm at 100 km/h on the same track; when does the second catch up?")),
    Message(role="assistant", content="hard"),
)


def router_request(question: str) -> Request:
    """The judgement prompt (two worked examples, question cut at 2000 chars), logprobs on."""
    return Request(
        messages=(*EXAMPLES, Message(role="user", content=ASK.format(question=question[:2000]))),
        max_tokens=2,
        logprobs=True,
    )


class LLMRouterPolicy(Policy):
    """Escalate when the router model thinks the question is hard."""

    name: ClassVar[str] = "llm-router"
    endpoint_params: ClassVar[frozenset[str]] = frozenset({"router"})

    def __init__(self, router: Endpoint, min_hard: float = 0.5, target: str | None = None) -> None:
        self.router = router
        self.min_hard = min_hard
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        """Remote at p(hard) >= min_hard; the device if the router call fails or cannot fit the budget."""
        request = router_request(state.request.last_user_text).model_copy(update={"turn": state.turn})
        if not state.budget.fits(worst_case(self.router, request)):  # its own call is held to the budget like any other
            return Action(endpoint=state.device, reason="llm-router: its own call does not fit the budget left; device answers")
        try:
            verdict = await self.router.complete(request)
        except TierlinkError as exc:
            return Action(endpoint=state.device, reason=f"llm-router unavailable ({exc}); device answers")
        p_hard = hard_probability(verdict.top_logprobs[0] if verdict.top_logprobs else None, verdict.text)
        remote = pick_remote(state, self.target)
        if p_hard is not None and p_hard >= self.min_hard and remote != state.device:
            return Action(endpoint=remote, reason=f"llm-router: p(hard)={p_hard:.2f}", overhead=verdict)
        shown = "n/a" if p_hard is None else f"{p_hard:.2f}"
        return Action(endpoint=state.device, reason=f"llm-router: p(hard)={shown}", overhead=verdict)


def hard_probability(top: dict[str, float] | None, text: str) -> float | None:
    """P(hard) among {easy, hard} from the first token's top log-probs, else from the text."""
    share = label_share(top, "hard", "easy")
    if share is not None:
        return share
    lowered = text.strip().lower()
    return 1.0 if lowered.startswith("hard") else 0.0 if lowered.startswith("easy") else None
