"""The gateway (a real process, driven by the official client) in front of upstreams that lie or
break the protocol, and against requests it cannot honour: never a 500, never negative or
unbounded spend, a clean 400 that names the field, and a fallback where an upstream is broken."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests.servers.gateway import FAST_LINK, gateway, upstream
from tests.servers.process import free_port
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.serve.store import Store

HI = [{"role": "user", "content": "hi"}]
LIARS = ("hugeusage", "negusage", "textusage", "badline", "surrogate", "longtext", "bigbody")
WORST_HI_16 = endpoint_profiles()["gpt-4o"].dollars(26, 16)  # "hi" at most 26 prompt tokens, 16 out


def _config(path: Path, port: int, **serve: object) -> Path:
    """device and edge healthy; one cloud endpoint per lie; a broken cloud falls back to the edge."""
    clouds = {f"c-{fault}": upstream(port, fault, "gpt-4o", "cloud") for fault in (*LIARS, "slow500", "emptybreak", "echo")}
    config = {
        "nodes": {"robot": {"tier": "device"}, "edge": {"tier": "edge"}, "cloud": {"tier": "cloud"}},
        "links": {"robot-edge": {"a": "robot", "b": "edge", **FAST_LINK}, "robot-cloud": {"a": "robot", "b": "cloud", **FAST_LINK}},
        "endpoints": {"device": upstream(port, "ok", "laptop-cpu/gemma3-270m-q4", "robot"),
                      "edge": upstream(port, "ok", "edge-l4/llama3.1-8b", "edge"), **clouds},
        "device": "device", "policy": {"name": "always-cloud"},
        "serve": {"database": str(path.parent / "gateway.sqlite3"), "fallback": ["edge", "device"],
                  "breaker": {"failures_to_open": 2, "reset_after_s": 60.0}, **serve},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fault_server: str) -> Iterator[tuple[int, Path, str]]:
    """One gateway for the module, keys required; yields its port, database and an unlimited key."""
    folder = tmp_path_factory.mktemp("gw")
    config, db = _config(folder / "gw.yaml", int(fault_server.rsplit(":", 1)[1])), folder / "gateway.sqlite3"
    with Store(db) as store:
        secret = store.create_key("app")[0]
    port = free_port()
    with gateway(config, port):
        yield port, db, secret


def _tight_key(db: Path) -> str:
    with Store(db) as store:  # a fresh $0.0005 key for each test that spends it
        return store.create_key(f"tight-{len(store.keys())}", dollars_limit=0.0005)[0]


def _key_id(db: Path, secret: str) -> str:
    with Store(db) as store:
        found = store.key_for(secret)
        assert found is not None
        return found[0].key_id


def _client(port: int, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=60)


def _raw(port: int, key: str, body: bytes | dict, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", content=content, timeout=60,
                      headers={"content-type": "application/json", "authorization": f"Bearer {key}", **(headers or {})})


@pytest.mark.parametrize("fault, why", [("negusage", "malformed usage"), ("textusage", "malformed usage"),
                                        ("badline", "malformed stream chunk"), ("bigbody", "larger than")])
def test_a_broken_upstream_falls_back_and_nothing_negative_is_recorded(served: tuple[int, Path, str], fault: str, why: str) -> None:
    port, db, key = served
    answer = _client(port, key).chat.completions.create(model=f"c-{fault}", messages=HI, max_tokens=16)
    extra = answer.model_extra["tierlink"]  # type: ignore[index]
    assert extra["endpoint"] == "edge" and extra["fallback"] and why in extra["reason"]
    assert answer.choices[0].message.content == "all good here"
    with Store(db) as store:
        assert store.spend_totals()["dollars"] >= 0 and store.key_spent(_key_id(db, key)) >= 0


def test_a_stream_that_opened_then_broke_is_charged_its_prompt_before_the_fallback(served: tuple[int, Path, str]) -> None:
    port, db, key = served
    answer = _client(port, key).chat.completions.create(model="c-emptybreak", messages=HI, max_tokens=16, user="broken-1")
    extra = answer.model_extra["tierlink"]  # type: ignore[index]
    assert extra["endpoint"] == "edge" and extra["fallback"] and "stream broke after 0 chunk(s)" in extra["reason"]
    assert extra["usage"]["dollars"] > 0 and "simulated" in extra["usage"]["origin"]  # the cloud billed the prompt
    with Store(db) as store:
        assert store.spend_totals(f"{_key_id(db, key)}:broken-1")["dollars"] == pytest.approx(extra["usage"]["dollars"])


def test_a_request_marked_private_never_reaches_an_endpoint_outside_its_zone(served: tuple[int, Path, str],
                                                                            fault_server: str) -> None:
    port, _, key = served
    secret_turn = [{"role": "user", "content": "my diagnosis code is Q-7731-private"}]
    kept = _raw(port, key, {"model": "c-echo", "messages": secret_turn}, {"X-Tierlink-Private": "true"})
    assert kept.status_code == 200 and kept.json()["tierlink"]["endpoint"] == "device"
    assert "private data may not leave" in kept.json()["tierlink"]["reason"]
    assert "Q-7731" not in str(httpx.get(f"{fault_server}/recorded").json())  # the recording upstream never saw it
    public = _raw(port, key, {"model": "c-echo", "messages": [{"role": "user", "content": "public note R-5512"}]})
    assert public.json()["tierlink"]["endpoint"] == "c-echo" and "R-5512" in str(httpx.get(f"{fault_server}/recorded").json())
    unreadable = _raw(port, key, {"model": "c-echo", "messages": HI}, {"X-Tierlink-Private": "maybe"})
    assert unreadable.status_code == 400 and unreadable.json()["error"]["param"] == "X-Tierlink-Private"
    with Store(served[1]) as store:  # a key made private keeps all its requests in the zone, header or not
        clinic = store.create_key("clinic", private=True)[0]
    by_key = _raw(port, clinic, {"model": "c-echo", "messages": [{"role": "user", "content": "patient P-9090 notes"}]})
    assert by_key.json()["tierlink"]["endpoint"] == "device" and "P-9090" not in str(httpx.get(f"{fault_server}/recorded").json())


def test_a_key_limited_to_some_zones_never_reaches_an_endpoint_outside_them(served: tuple[int, Path, str],
                                                                             fault_server: str) -> None:
    port, db, _ = served
    with Store(db) as store:
        home = store.create_key("home-only", zones=("device", "edge"))[0]
        assert [k.zones for k, _ in store.keys() if k.name == "home-only"] == [("device", "edge")]
    kept = _raw(port, home, {"model": "c-echo", "messages": [{"role": "user", "content": "home note H-4242"}]})
    assert kept.status_code == 200 and kept.json()["tierlink"]["endpoint"] == "device"
    assert "may only go to zone(s) device, edge" in kept.json()["tierlink"]["reason"]
    assert "H-4242" not in str(httpx.get(f"{fault_server}/recorded").json())


def test_over_reported_usage_cannot_break_the_keys_hard_limit(served: tuple[int, Path, str]) -> None:
    port, db, _ = served
    tight = _tight_key(db)
    api = _client(port, tight)
    answers = [api.chat.completions.create(model="c-hugeusage", messages=HI, max_tokens=16).model_extra["tierlink"]  # type: ignore[index]
               for _ in range(3)]  # each answer claims 1M/1M tokens ($12.50) against a $0.0005 key
    for extra in answers[:2]:  # used, billed at the call's bound, and said so
        assert extra["endpoint"] == "c-hugeusage" and "over-reported" in extra["reason"]
        assert extra["usage"]["output_tokens"] == 16 and extra["usage"]["dollars"] == pytest.approx(WORST_HI_16)
    assert answers[2]["endpoint"] == "edge" and "circuit open" in answers[2]["reason"]  # two lies opened the breaker
    with Store(db) as store:
        assert store.key_spent(_key_id(db, tight)) == pytest.approx(2 * WORST_HI_16) and 2 * WORST_HI_16 <= 0.0005
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"authorization": f"Bearer {tight}"}).text
    assert 'tierlink_usage_capped_total{endpoint="c-hugeusage"} 2.0' in metrics


def test_concurrent_requests_of_one_key_each_hold_only_their_own_call(served: tuple[int, Path, str]) -> None:
    port, db, _ = served
    with Store(db) as store:  # room for two cloud calls' worst cases at once, not three
        secret = store.create_key("two-at-once", dollars_limit=2.5 * WORST_HI_16)[0]

    async def three() -> list[dict]:
        api = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=secret, max_retries=0, timeout=60)
        try:
            answers = await asyncio.gather(*(api.chat.completions.create(model="c-slow500", messages=HI, max_tokens=16)
                                             for _ in range(3)))
        finally:
            await api.close()
        return [a.model_extra["tierlink"] for a in answers]  # type: ignore[index]

    extras = asyncio.run(three())
    by = sorted(extra["endpoint"] for extra in extras)
    assert by == ["c-slow500", "c-slow500", "edge"]  # the third does not fit beside the two in flight: the free edge
    assert any("shared budget" in extra["reason"] for extra in extras if extra["endpoint"] == "edge")
    with Store(db) as store:
        assert 0 < store.key_spent(_key_id(db, secret)) <= 2.5 * WORST_HI_16


@pytest.mark.parametrize("body, param, code", [
    (b'{"model": "edge", "messages": [{"role": "user", "content": "bad \\ud800"}]}', "messages[0].content", "invalid_value"),
    (b'{"model": "edge", "messages": [{"role": "user", "content": "hi"}], "user": "\\udfff"}', "user", "invalid_value"),
    (b'{"model": "edge", "messages": [{"role": "user", "content": "hi"}], "stop": ["\\ud800"]}', "stop[0]", "invalid_value"),
    ({"model": "edge", "messages": HI, "stream": "yes"}, "stream", "invalid_request"),
    ({"model": "edge", "messages": HI, "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools",
     "unsupported_parameter"),
    ({"model": "edge", "messages": HI, "tool_choice": "auto"}, "tool_choice", "unsupported_parameter"),
    ({"model": "edge", "messages": HI, "logprobs": True}, "logprobs", "unsupported_parameter"),
    ({"model": "edge", "messages": HI, "response_format": {"type": "json_object"}}, "response_format",
     "unsupported_parameter"),
    ({"model": "edge", "messages": HI, "max_tokens": 1e9}, "messages", "context_length_exceeded"),
    ({"model": "edge", "messages": [{"role": "user", "content": "x" * 5_000_000}]}, "messages", "context_length_exceeded"),
    ({"model": "edge", "messages": HI, "user": "u" * 1_000_000}, "user", "invalid_request"),
])
def test_requests_the_gateway_cannot_honour_are_a_400_naming_the_field(served: tuple[int, Path, str], body: bytes | dict,
                                                                      param: str, code: str) -> None:
    port, _, key = served
    response = _raw(port, key, body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["type"] == "invalid_request_error", error
    assert error["param"] == param and error["code"] == code


def test_overlong_and_unencodable_answers_are_served_safely(served: tuple[int, Path, str]) -> None:
    port, _, key = served
    api = _client(port, key)
    long = api.chat.completions.create(model="c-longtext", messages=HI, max_tokens=16)
    assert len(long.choices[0].message.content or "") == 16 * 64 and long.choices[0].finish_reason == "length"
    odd = api.chat.completions.create(model="c-surrogate", messages=HI, max_tokens=16)
    assert odd.choices[0].message.content == "bad \ufffd text"


def test_with_keys_required_status_pages_need_a_key_and_refusals_are_counted(served: tuple[int, Path, str]) -> None:
    port, _, key = served
    base, auth = f"http://127.0.0.1:{port}", {"authorization": f"Bearer {key}"}
    for path in ("/metrics", "/docs", "/openapi.json"):
        assert httpx.get(base + path).status_code == 401, path
        assert httpx.get(base + path, headers=auth).status_code == 200, path
    assert httpx.get(base + "/ready").json() == {"ready": True}  # a probe learns nothing more
    assert "edge" in httpx.get(base + "/ready", headers=auth).json()["endpoints"]
    too_long = _raw(port, key, {"model": "edge", "messages": HI}, {"X-Tierlink-Session": "s" * 300})
    assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "X-Tierlink-Session"
    with pytest.raises(openai.AuthenticationError):
        _client(port, "tl-wrong").chat.completions.create(model="edge", messages=HI)
    metrics = httpx.get(base + "/metrics", headers=auth).text
    assert 'tierlink_requests_total{model="edge",status="401"} 1.0' in metrics
    assert 'tierlink_requests_total{model="unknown",status="400"}' in metrics


def test_a_live_stream_carries_the_request_and_session_headers(served: tuple[int, Path, str]) -> None:
    port, db, key = served
    with _client(port, key).chat.completions.with_streaming_response.create(
            model="edge", messages=HI, stream=True, user="robot-9") as response:
        request_id = response.headers["x-request-id"]
        assert response.headers["x-tierlink-session"] == "robot-9"
        chunks = list(response.parse())
    assert {c.id for c in chunks} == {f"chatcmpl-{request_id}"}
    with Store(db) as store:
        assert store.session(f"{_key_id(db, key)}:robot-9") is not None


def test_the_cli_gateway_never_answered_500(served: tuple[int, Path, str]) -> None:
    port, _, key = served
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"authorization": f"Bearer {key}"}).text
    assert 'status="500"' not in metrics
