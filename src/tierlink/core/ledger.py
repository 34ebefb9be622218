"""Ledger: the one accounting path. Crossings (bytes, link seconds) and charges (what a call
cost: tokens, dollars, seconds, joules) are recorded apart, each exactly once, with totals by
edge, round and endpoint.

Links record crossings; whoever makes a call (a session, a team's agent) emits one charge for it
to a `ChargeSink`. The in-memory `Ledger`, the gateway's SQLite store and a team's traffic all
take charges the same way, so their totals agree to the last micro-dollar. One ledger per session
or team run; there are no global counters.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from tierlink.core.usage import Origin, Usage

ChargeKind = Literal["answer", "draft", "sample", "self-check", "summary", "router", "partial", "agent"]


class Transfer(BaseModel):
    """One message over one link: its size and link time (money is in the call's Charge).

    `origin` says where `tokens` came from; `seconds` come from the link model.
    """

    model_config = ConfigDict(frozen=True)

    time_s: float
    round: int
    sender: str
    receiver: str
    link: str
    tokens: int
    bytes: int
    seconds: float
    endpoint: str
    origin: Origin
    tainted: bool = False  # it carried content traced to an injection: its receiver is tainted too


class Charge(BaseModel):
    """What one model call cost, charged once: partial answers, drafts, summaries and a router's
    own call included. `caller` asked and `callee` (the endpoint's node or agent) answered."""

    model_config = ConfigDict(frozen=True)

    round: int
    kind: ChargeKind
    endpoint: str
    caller: str
    callee: str
    usage: Usage

    @property
    def dollars(self) -> float:
        """The call's cost in USD, so charges sum without reaching into their usage."""
        return self.usage.dollars


class ChargeSink(Protocol):
    """Anything that takes the charges of calls: a Ledger, a gateway request's record, a team."""

    def charge(self, charge: Charge) -> None:
        """Take one call's charge; callers emit exactly one per call."""
        ...


class Totals(BaseModel):
    """Sums over a group of transfers and charges."""

    transfers: int = 0
    tokens: int = 0
    bytes: int = 0
    seconds: float = 0.0
    calls: int = 0
    dollars: float = 0.0


class Ledger:
    """Append-only lists of transfers and charges; records cannot be edited or removed."""

    def __init__(self) -> None:
        self._records: list[Transfer] = []
        self._charges: list[Charge] = []

    def record(self, transfer: Transfer) -> None:
        """Append one link crossing; its money is in the call's Charge, not here."""
        self._records.append(transfer)

    def charge(self, charge: Charge) -> None:
        """Append one call's charge: the single place its cost is counted."""
        self._charges.append(charge)

    def __iter__(self) -> Iterator[Transfer]:
        return iter(tuple(self._records))

    def __len__(self) -> int:
        return len(self._records)

    @property
    def charges(self) -> tuple[Charge, ...]:
        """Every charge in order, as a tuple (a copy: the ledger stays append-only)."""
        return tuple(self._charges)

    def spent(self, where: Callable[[Charge], bool] | None = None) -> Usage:
        """Every charge (or those `where` keeps) added up, in the order they were made."""
        return sum((c.usage for c in self._charges if where is None or where(c)), Usage())

    def total(self) -> Totals:
        """Sums over every transfer and charge recorded so far."""
        return _sum(self._records, self._charges)

    def by_edge(self) -> dict[tuple[str, str], Totals]:
        """Totals per (sender, receiver): transfers by direction, charges by caller and callee."""
        return self._group(lambda t: (t.sender, t.receiver), lambda c: (c.caller, c.callee))

    def by_round(self) -> dict[int, Totals]:
        """Totals per round (a session's turn or a team's round)."""
        return self._group(lambda t: t.round, lambda c: c.round)

    def by_endpoint(self) -> dict[str, Totals]:
        """Totals per endpoint name, transfers and charges together."""
        return self._group(lambda t: t.endpoint, lambda c: c.endpoint)

    def _group(self, of_transfer: Callable[[Transfer], Hashable], of_charge: Callable[[Charge], Hashable]) -> dict:
        transfers: dict[Hashable, list[Transfer]] = defaultdict(list)
        charges: dict[Hashable, list[Charge]] = defaultdict(list)
        for transfer in self._records:
            transfers[of_transfer(transfer)].append(transfer)
        for charge in self._charges:
            charges[of_charge(charge)].append(charge)
        return {k: _sum(transfers.get(k, ()), charges.get(k, ())) for k in dict.fromkeys([*transfers, *charges])}

    def to_csv(self, path: Path) -> None:
        """Every transfer as a CSV row."""
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(Transfer.model_fields))
            writer.writeheader()
            for transfer in self._records:
                writer.writerow(transfer.model_dump())


CHARGE_COLUMNS = ["round", "kind", "endpoint", "caller", "callee", "input_tokens", "output_tokens",
                  "cached_tokens", "dollars", "seconds", "joules", "origin"]


def charge_row(charge: Charge) -> dict[str, object]:
    """A charge as one flat row (CSV, SQLite)."""
    usage = charge.usage
    return {"round": charge.round, "kind": charge.kind, "endpoint": charge.endpoint,
            "caller": charge.caller, "callee": charge.callee, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "cached_tokens": usage.cached_tokens, "dollars": usage.dollars,
            "seconds": usage.latency.total_s, "joules": usage.joules, "origin": usage.origin_label}


def _sum(transfers: Iterable[Transfer], charges: Iterable[Charge]) -> Totals:
    transfers, charges = list(transfers), list(charges)
    return Totals(
        transfers=len(transfers),
        tokens=sum(t.tokens for t in transfers),
        bytes=sum(t.bytes for t in transfers),
        seconds=sum(t.seconds for t in transfers),
        calls=len(charges),
        dollars=sum((c.dollars for c in charges), 0.0),
    )
