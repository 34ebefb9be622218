"""Core types: usage arithmetic, budgets, and the append-only ledger."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tierlink.core import Budget, Latency, Ledger, Transfer, Usage
from tierlink.core.errors import ConfigError, EndpointError, RateLimited, TierlinkError
from tierlink.core.ledger import Charge


def _usage(**kw: object) -> Usage:
    return Usage(**kw)  # type: ignore[arg-type]


def test_usage_adds_every_field_and_keeps_origins() -> None:
    a = _usage(input_tokens=10, output_tokens=5, cached_tokens=2, bytes_up=100, bytes_down=50,
               latency=Latency(network_s=0.1, queue_s=0.2, prefill_s=0.3, decode_s=0.4),
               dollars=0.01, joules=3.0, origins=frozenset({"live"}))
    b = _usage(input_tokens=1, output_tokens=2, bytes_up=7, latency=Latency(decode_s=1.0),
               dollars=0.02, origins=frozenset({"replay"}))
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.cached_tokens) == (11, 7, 2)
    assert (total.bytes_up, total.bytes_down) == (107, 50)
    assert total.latency.total_s == pytest.approx(2.0)
    assert total.dollars == pytest.approx(0.03)
    assert total.joules == pytest.approx(3.0)
    assert total.origin_label == "live+replay"
    assert sum([a, b]) == total


def test_budget_fits_and_spend() -> None:
    budget = Budget(dollars=0.05, latency_s=2.0)
    cheap = _usage(dollars=0.01, latency=Latency(decode_s=1.0))
    dear = _usage(dollars=0.06)
    assert budget.fits(cheap)
    assert not budget.fits(dear)
    left = budget.spend(cheap)
    assert left.dollars == pytest.approx(0.04)
    assert left.latency_s == pytest.approx(1.0)
    assert left.joules is None  # unlimited stays unlimited
    assert Budget().fits(dear)


def _transfer(round_: int, sender: str, receiver: str, n_bytes: int) -> Transfer:
    return Transfer(time_s=0.0, round=round_, sender=sender, receiver=receiver, link="l",
                    tokens=n_bytes // 4, bytes=n_bytes, seconds=0.1,
                    endpoint=receiver if sender == "phone" else sender, origin="simulated")


def test_ledger_totals_by_edge_round_endpoint(tmp_path: Path) -> None:
    ledger = Ledger()
    ledger.record(_transfer(1, "phone", "cloud", 400))
    ledger.record(_transfer(1, "cloud", "phone", 800))
    ledger.record(_transfer(2, "phone", "cloud", 200))
    ledger.charge(Charge(round=1, kind="answer", endpoint="cloud", caller="phone", callee="cloud",
                         usage=Usage(input_tokens=100, dollars=0.002)))
    assert ledger.total().bytes == 1400
    assert ledger.total().dollars == pytest.approx(0.002) and ledger.total().calls == 1
    assert ledger.by_edge()[("phone", "cloud")].bytes == 600
    assert ledger.by_edge()[("phone", "cloud")].dollars == pytest.approx(0.002)  # the call's charge, once
    assert ledger.by_edge()[("cloud", "phone")].dollars == 0.0  # a crossing carries no money
    assert ledger.by_round()[1].transfers == 2
    assert ledger.by_endpoint()["cloud"].transfers == 3
    assert ledger.spent().input_tokens == 100
    out = tmp_path / "ledger.csv"
    ledger.to_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert [int(r["bytes"]) for r in rows] == [400, 800, 200]


def test_ledger_is_append_only() -> None:
    ledger = Ledger()
    ledger.record(_transfer(1, "phone", "cloud", 10))
    snapshot = list(ledger)
    snapshot.clear()
    assert len(ledger) == 1
    assert not hasattr(ledger, "remove")


def test_errors_are_typed_and_keep_details() -> None:
    err = ConfigError("links.x.up_mbps", "must be positive", "use a number above 0")
    assert "links.x.up_mbps" in str(err) and "Fix: use a number above 0" in str(err)
    limited = RateLimited("cloud", "slow down", retry_after=2.0)
    assert isinstance(limited, EndpointError) and isinstance(limited, TierlinkError)
    assert limited.status == 429 and limited.retry_after == 2.0
    assert limited.upstream_message == "slow down"
