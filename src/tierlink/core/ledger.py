"""Ledger: append-only record of everything that crossed a link, with totals by edge/round/endpoint.

One ledger per session or team run; there are no global counters.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tierlink.core.usage import Origin


class Transfer(BaseModel):
    """One message over one link.

    `origin` says where `tokens` and `dollars` came from; `seconds` come from the link model.
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
    dollars: float
    endpoint: str
    origin: Origin


class Totals(BaseModel):
    """Sums over a group of transfers."""

    transfers: int = 0
    tokens: int = 0
    bytes: int = 0
    seconds: float = 0.0
    dollars: float = 0.0


class Ledger:
    """Append-only list of transfers; records cannot be edited or removed."""

    def __init__(self) -> None:
        self._records: list[Transfer] = []

    def record(self, transfer: Transfer) -> None:
        self._records.append(transfer)

    def __iter__(self) -> Iterator[Transfer]:
        return iter(tuple(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def total(self) -> Totals:
        return _sum(self._records)

    def by_edge(self) -> dict[tuple[str, str], Totals]:
        return self._group(lambda t: (t.sender, t.receiver))

    def by_round(self) -> dict[int, Totals]:
        return self._group(lambda t: t.round)

    def by_endpoint(self) -> dict[str, Totals]:
        return self._group(lambda t: t.endpoint)

    def _group(self, key: Callable[[Transfer], Hashable]) -> dict:
        groups: dict[Hashable, list[Transfer]] = defaultdict(list)
        for transfer in self._records:
            groups[key(transfer)].append(transfer)
        return {k: _sum(v) for k, v in groups.items()}

    def to_csv(self, path: Path) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(Transfer.model_fields))
            writer.writeheader()
            for transfer in self._records:
                writer.writerow(transfer.model_dump())


def _sum(transfers: list[Transfer]) -> Totals:
    return Totals(
        transfers=len(transfers),
        tokens=sum(t.tokens for t in transfers),
        bytes=sum(t.bytes for t in transfers),
        seconds=sum(t.seconds for t in transfers),
        dollars=sum(t.dollars for t in transfers),
    )
