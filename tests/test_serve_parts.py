"""The gateway's parts on their own: circuit breaker, rate limiter, key store, request mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierlink.core.errors import EndpointError, EndpointTimeout, TierlinkError
from tierlink.endpoints.breaker import CircuitBreaker, counts_against
from tierlink.serve.ratelimit import RateLimiter
from tierlink.serve.refusals import BadRequest
from tierlink.serve.store import SessionRecord, SpendRecord, Store
from tierlink.serve.wire import ChatRequest


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_breaker_opens_after_consecutive_failures_and_recovers_through_one_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=2, reset_after_s=10, clock=clock)
    assert breaker.acquire()
    breaker.failed()
    assert breaker.state == "closed"
    breaker.succeeded()  # a success in between resets the count
    breaker.failed()
    assert breaker.state == "closed"
    breaker.failed()
    assert breaker.state == "open" and not breaker.available() and not breaker.acquire()
    clock.t = 10
    assert breaker.state == "half-open" and breaker.available()
    assert breaker.acquire() and not breaker.acquire()  # one probe at a time
    breaker.failed()  # the probe failed: open again for another 10 s
    assert breaker.state == "open"
    clock.t = 20
    assert breaker.acquire()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.acquire()


def test_cancelled_probe_frees_the_slot_and_client_errors_do_not_count() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=1, reset_after_s=1, clock=clock)
    breaker.failed()
    clock.t = 1
    assert breaker.acquire()
    breaker.released()
    assert breaker.acquire()
    assert not counts_against(EndpointError("x", "bad request", status=400))
    assert counts_against(EndpointError("x", "boom", status=503)) and counts_against(EndpointTimeout("x", "slow"))


def test_rate_limiter_refills_over_time() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.take("k", 2) for _ in range(2)] == [0.0, 0.0]
    wait = limiter.take("k", 2)
    assert wait == pytest.approx(30.0)
    clock.t = 30
    assert limiter.take("k", 2) == 0.0
    assert limiter.take("other", None) == 0.0


def test_store_keeps_only_hashes_and_records_spend_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.sqlite3")
    secret, record = store.create_key("app", dollars_limit=1.0, requests_per_minute=10)
    assert store.key_for(secret)[0].key_id == record.key_id  # type: ignore[index]
    assert store.key_for(secret + "x") is None
    with pytest.raises(TierlinkError, match="already exists"):
        store.create_key("app")
    spend = SpendRecord(request_id="r1", session_id="s", key_id=record.key_id, model="m", endpoint="cloud",
                        outcome="answered", input_tokens=3, output_tokens=4, cached_tokens=0, dollars=0.25, seconds=1.0)
    store.record(spend, SessionRecord(session_id="s", key_id=record.key_id, dollars_left=0.75, spent_dollars=0.25, turns=1))
    with pytest.raises(Exception, match="UNIQUE"):
        store.record(spend, None)  # the same request id is never recorded twice
    assert store.spend_totals() == {"requests": 1, "input_tokens": 3, "output_tokens": 4, "dollars": 0.25}
    assert store.key_for(secret)[1] == 0.25  # type: ignore[index]
    assert store.session("s").dollars_left == 0.75  # type: ignore[union-attr]
    store.revoke("app")
    assert store.key_for(secret) is None and not store.has_active_keys()
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in raw


def test_request_mapping_refuses_what_it_cannot_honour() -> None:
    def messages(**body: object) -> None:
        ChatRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "hi"}]} | body).tierlink_turn()

    messages()
    with pytest.raises(BadRequest, match="n > 1"):
        messages(n=2)
    with pytest.raises(BadRequest, match="last message"):
        messages(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    with pytest.raises(BadRequest, match=r"messages\[0\].content\[0\]: a data URL must look like"):
        messages(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}])
    with pytest.raises(BadRequest, match="type 'video' is not supported"):
        messages(messages=[{"role": "user", "content": [{"type": "video"}]}])
    parts = ChatRequest.model_validate({"model": "m", "messages": [
        {"role": "developer", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]})
    mapped, attached = parts.tierlink_turn()
    assert [m.role for m in mapped] == ["system", "user"] and mapped[1].content == "a\nb" and attached == ()


def test_headers_carry_printable_ascii_only() -> None:
    from tierlink.serve.responses import header_safe

    assert header_safe("edge answers; upstream said:\r\n<html>\x00bad\x7f é", 60) == "edge answers; upstream said:  <html> bad   "


def test_a_database_from_before_private_keys_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the keys table as an earlier tierlink made it
        db.execute("CREATE TABLE keys (key_id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, hash TEXT UNIQUE NOT NULL, "
                   "hint TEXT NOT NULL, created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, dollars_limit REAL, "
                   "requests_per_minute INTEGER, spent_dollars REAL NOT NULL DEFAULT 0)")
        db.execute("INSERT INTO keys VALUES ('k1', 'old', 'h', 'tl-abc', 1.0, 0, 2.5, NULL, 0.5)")
    with Store(path) as store:
        (old, spent), = store.keys()
        assert (old.name, old.dollars_limit, spent, old.private) == ("old", 2.5, 0.5, False)
        assert store.create_key("new", private=True)[1].private
        assert store.create_key("zoned", zones=("device", "home"))[1].zones == ("device", "home")
