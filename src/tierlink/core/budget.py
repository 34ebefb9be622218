"""Budget: what a session may still spend in seconds, dollars and joules (None = unlimited)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tierlink.core.usage import Usage


class Budget(BaseModel):
    """Remaining allowance; `spend` returns a new Budget so history stays inspectable."""

    model_config = ConfigDict(frozen=True)

    latency_s: float | None = Field(None, ge=0)
    dollars: float | None = Field(None, ge=0)
    joules: float | None = Field(None, ge=0)

    def fits(self, usage: Usage) -> bool:
        """True if `usage` (usually a worst-case reservation) stays within every limit."""
        return (
            _within(self.latency_s, usage.latency.total_s)
            and _within(self.dollars, usage.dollars)
            and _within(self.joules, usage.joules)
        )

    def spend(self, usage: Usage) -> Budget:
        """Budget left after `usage`; may go negative only for latency, which cannot be undone."""
        return Budget(
            latency_s=_minus(self.latency_s, usage.latency.total_s),
            dollars=_minus(self.dollars, usage.dollars),
            joules=_minus(self.joules, usage.joules),
        )


def _within(limit: float | None, amount: float) -> bool:
    return limit is None or amount <= limit + 1e-12


def _minus(limit: float | None, amount: float) -> float | None:
    return None if limit is None else max(0.0, limit - amount)
