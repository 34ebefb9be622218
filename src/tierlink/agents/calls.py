"""The two things every pattern does: ask an agent's model, and send a message to another agent.
Both turn faults into notes on the run's Traffic so a team run always finishes; every call is
charged there, once."""

from __future__ import annotations

from tierlink.agents.team import Agent
from tierlink.agents.traffic import AgentMessage, Traffic
from tierlink.core.errors import LinkDown, TierlinkError
from tierlink.core.messages import Request
from tierlink.trust.injection import MESSAGE_THRESHOLD


async def ask(traffic: Traffic, agent: Agent, prompt: str, round: int, max_tokens: int, fallback: str = "",
              temperature: float = 0.0, seed: int | None = None) -> str:
    """One model call in `round`; on failure the agent keeps `fallback` and the failure is noted."""
    try:
        completion = await agent.endpoint.complete(
            Request.of(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed, turn=round))
    except TierlinkError as exc:
        traffic.notes.append(f"{agent.name}: {exc}; keeps its previous answer")
        return fallback
    traffic.charge(agent.name, round, completion.usage)
    return completion.text.strip()


def deliver(traffic: Traffic, message: AgentMessage) -> AgentMessage | None:
    """Send over the topology; a cut link drops the message (noted) instead of failing the run.
    With a guard, content that reads as an injection, or comes from an agent that read some, is
    tainted: with quarantine it is held back and its sender quarantined (nothing it sends later is
    delivered); without, it goes through marked, and its reader is tainted in turn (in the ledger)."""
    if traffic.guard is not None:
        # an answer written after its agent read tainted content (an earlier round) carries the taint
        inherited = traffic.tainted.get(message.sender, message.round) < message.round
        tainted = (inherited or message.sender in traffic.quarantined
                   or traffic.guard.flags(message.content, MESSAGE_THRESHOLD))
        if tainted and traffic.quarantine:
            if message.sender not in traffic.quarantined:
                traffic.quarantined.add(message.sender)
                traffic.notes.append(f"{message.sender} quarantined in round {message.round}: its message reads as an injection")
            return None
        if tainted:
            traffic.tainted.setdefault(message.sender, message.round)
            traffic.tainted.setdefault(message.receiver, message.round)
            message = message.model_copy(update={"tainted": True})
    try:
        return traffic.send(message)
    except LinkDown as exc:
        traffic.notes.append(f"{message.sender} -> {message.receiver} not delivered: {exc}")
        return None
