"""Dollars that several sessions running at once draw on (an API key's): each call holds its own
worst case while it runs and settles to what it was charged, so together they never spend more
than is left, and one request does not hold what its turn could spend on endpoints it never calls."""

from __future__ import annotations

EPSILON = 1e-12


class SharedDollars:
    """What is left of a shared dollar budget, and how much calls in flight hold of it."""

    def __init__(self, left: float) -> None:
        self.left = left
        self.held = 0.0
        self.users = 0  # sessions drawing on it now (the owner drops it when none are)

    @property
    def free(self) -> float:
        """What a new call may still hold."""
        return max(0.0, self.left - self.held)

    def hold(self, dollars: float) -> bool:
        """Hold `dollars` for one call, if that much is free."""
        if dollars > self.free + EPSILON:
            return False
        self.held += dollars
        return True

    def settle(self, held: float, spent: float) -> None:
        """A call ended: release its hold and take what it was charged."""
        self.held = max(0.0, self.held - held)
        self.left -= max(0.0, spent)
