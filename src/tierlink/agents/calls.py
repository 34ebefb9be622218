"""The two things every pattern does: ask an agent's model, and send a message to another agent.
Both turn faults into notes so a team run always finishes."""

from __future__ import annotations

from tierlink.agents.team import Agent
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.messages import Request
from tierlink.core.usage import Usage


async def ask(agent: Agent, prompt: str, max_tokens: int, usage: dict[str, Usage], notes: list[str],
              fallback: str = "", temperature: float = 0.0, seed: int | None = None) -> str:
    """One model call; on failure the agent keeps `fallback` and the failure is noted."""
    try:
        completion = await agent.endpoint.complete(
            Request.of(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed))
    except TierlinkError as exc:
        notes.append(f"{agent.name}: {exc}; keeps its previous answer")
        return fallback
    usage[agent.name] = usage.get(agent.name, Usage()) + completion.usage
    return completion.text.strip()


def deliver(traffic: Traffic, message: AgentMessage, notes: list[str]) -> AgentMessage | None:
    """Send over the topology; a cut link drops the message (noted) instead of failing the run."""
    try:
        return traffic.send(message)
    except LinkDown as exc:
        notes.append(f"{message.sender} -> {message.receiver} not delivered: {exc}")
        return None
