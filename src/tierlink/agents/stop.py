"""Stop conditions for team runs, composable with `|` (either) and `&` (both), after AutoGen's
termination conditions: max rounds, consensus, a token budget, a dollar budget."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tierlink.core.grading import answer_key
from tierlink.core.usage import Usage


@dataclass(frozen=True)
class Progress:
    """What a condition sees after a round."""

    round: int  # rounds completed (the first answers count as round 1)
    answer_keys: tuple[str, ...]  # each agent's current answer, normalised
    tokens: int  # model tokens (input plus output) so far; messages read are part of the input
    dollars: float

    @classmethod
    def after(cls, round: int, answers: Iterable[str], usage: Usage) -> Progress:
        """The progress after `round` rounds, given the current answers and the usage so far."""
        return cls(round=round, answer_keys=tuple(answer_key(a) for a in answers),
                   tokens=usage.input_tokens + usage.output_tokens, dollars=usage.dollars)


class StopCondition(ABC):
    """When a team run ends; combine with `|` (either) and `&` (both), their reasons joined."""

    @abstractmethod
    def reason(self, progress: Progress) -> str | None:
        """Why to stop now, or None to go on."""

    def __or__(self, other: StopCondition) -> StopCondition:
        return _Either(self, other)

    def __and__(self, other: StopCondition) -> StopCondition:
        return _Both(self, other)


@dataclass(frozen=True)
class MaxRounds(StopCondition):
    """Stop once `rounds` rounds are done: the hard cap patterns OR into any other condition."""

    rounds: int

    def reason(self, progress: Progress) -> str | None:
        """The cap's reason once `progress.round` reaches `rounds`, else None."""
        return f"max rounds ({self.rounds})" if progress.round >= self.rounds else None


@dataclass(frozen=True)
class Consensus(StopCondition):
    """Stop when at least `share` of the agents give the same answer."""

    share: float = 1.0

    def reason(self, progress: Progress) -> str | None:
        """Consensus once the most common non-empty answer reaches `share` of the agents."""
        if not progress.answer_keys:
            return None
        key, count = Counter(progress.answer_keys).most_common(1)[0]
        if key and count / len(progress.answer_keys) >= self.share:
            return f"consensus ({count}/{len(progress.answer_keys)} agree)"
        return None


@dataclass(frozen=True)
class TokenBudget(StopCondition):
    """Stop once model tokens (input plus output, messages read included) reach `tokens`."""

    tokens: int

    def reason(self, progress: Progress) -> str | None:
        """Budget reason once tokens so far reach `tokens` (checked after a round: it may overshoot)."""
        return f"token budget ({progress.tokens} >= {self.tokens})" if progress.tokens >= self.tokens else None


@dataclass(frozen=True)
class DollarBudget(StopCondition):
    """Stop once the run's model calls have cost `dollars` or more."""

    dollars: float

    def reason(self, progress: Progress) -> str | None:
        """Budget reason once dollars so far reach `dollars` (checked after a round: it may overshoot)."""
        return f"dollar budget (${progress.dollars:.4f} >= ${self.dollars:.4f})" if progress.dollars >= self.dollars else None


@dataclass(frozen=True)
class _Either(StopCondition):
    left: StopCondition
    right: StopCondition

    def reason(self, progress: Progress) -> str | None:
        """The left condition's reason if it fires, else the right's: `a | b` stops on either."""
        return self.left.reason(progress) or self.right.reason(progress)


@dataclass(frozen=True)
class _Both(StopCondition):
    left: StopCondition
    right: StopCondition

    def reason(self, progress: Progress) -> str | None:
        """Both reasons joined, only when both fire: `a & b` stops on both."""
        first, second = self.left.reason(progress), self.right.reason(progress)
        return f"{first} and {second}" if first and second else None
