"""Fixed choices: always the device, or always the most capable reachable remote endpoint."""

from __future__ import annotations

from typing import ClassVar

from tierlink.routing.policy import Policy
from tierlink.routing.state import Action, TurnState


class AlwaysDevice(Policy):
    """Every turn on the device: no money, no network; quality of the small model."""

    name: ClassVar[str] = "always-device"

    async def decide(self, state: TurnState) -> Action:
        """The device, every turn."""
        return Action(endpoint=state.device, reason="always-device")


class AlwaysCloud(Policy):
    """Every turn to `target` (default: the most capable reachable remote endpoint)."""

    name: ClassVar[str] = "always-cloud"

    def __init__(self, target: str | None = None) -> None:
        self.target = target

    async def decide(self, state: TurnState) -> Action:
        """`target` (or the most capable reachable remote), every turn."""
        return Action(endpoint=pick_remote(state, self.target), reason="always-cloud")


def pick_remote(state: TurnState, target: str | None = None) -> str:
    """`target` if given, else the most capable reachable remote endpoint; if none is reachable,
    still the most capable remote one, so the session can say why it cannot be used."""
    if target is not None:
        return target
    remote = state.remote_candidates()
    if remote:
        return remote[0].name
    others = sorted((v for v in state.endpoints.values() if not v.is_device),
                    key=lambda v: (-v.profile.price_out_per_mtok, v.name))
    return others[0].name if others else state.device
