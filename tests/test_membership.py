"""Endpoints join and leave a running `tierlink serve` through its admin routes: a real gateway
process, real upstream processes (the fault server, llama.cpp's own server), the official
openai client. A member is routed to on the first request after it joins and never after it
leaves; a member that fails its health check, or is malformed, changes nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests.servers.gateway import gateway, three_tiers, upstream
from tests.servers.process import free_port
from tierlink.bench.datasets import load_from
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.nway import NWayRouter
from tierlink.serve.store import Store

ADMIN_KEY = "admin-secret-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def upstream_port(fault_server: str) -> int:
    return int(fault_server.rsplit(":", 1)[1])


def _api(port: int) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="no-key", max_retries=0, timeout=60)


def _calls(fault_server: str, route: str) -> int:
    return int(httpx.get(f"{fault_server}/stats").json().get(route, 0))


def test_a_member_is_routed_to_at_once_and_never_after_it_leaves(tmp_path: Path, upstream_port: int, fault_server: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINK_ADMIN_KEY", ADMIN_KEY)
    port = free_port()
    base = f"http://127.0.0.1:{port}/admin/endpoints"
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port), port):
        api = _api(port)
        assert httpx.get(base).status_code == 401
        assert httpx.get(base, headers={"Authorization": "Bearer wrong"}).status_code == 401
        member = {"name": "edge2", "endpoint": upstream(upstream_port, "echo", "edge-l4/llama3.1-8b", "edge")}
        joined = httpx.post(base, json=member, headers=ADMIN, timeout=60)
        assert joined.status_code == 201, joined.text
        assert joined.json()["tier"] == "edge" and "edge2" in joined.json()["models"]
        assert "edge2" in {m.id for m in api.models.list()}
        assert "edge2" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").text

        raw = api.chat.completions.with_raw_response.create(model="edge2", messages=[{"role": "user", "content": "ping 7"}])
        assert raw.headers["x-tierlink-endpoint"] == "edge2" and raw.parse().choices[0].message.content == "ping 7"
        listed = httpx.get(base, headers=ADMIN).json()
        assert {"name": "edge2", "kind": "openai", "node": "edge", "tier": "edge", "breaker": "closed", "queued": 0} in listed["endpoints"]
        assert listed["fallback"].index("edge2") < listed["fallback"].index("device")  # by tier: edge before the device

        assert httpx.post(base, json=member, headers=ADMIN).status_code == 409
        gone = httpx.delete(f"{base}/edge2", headers=ADMIN)
        assert gone.status_code == 200 and "edge2" not in gone.json()["models"]
        echoed = _calls(fault_server, "echo")
        with pytest.raises(openai.NotFoundError, match="unknown model 'edge2'"):
            api.chat.completions.create(model="edge2", messages=HI)
        for _ in range(5):  # the auto policy and the fallback chain no longer know it either
            assert api.chat.completions.with_raw_response.create(model="tierlink-auto", messages=HI).headers["x-tierlink-endpoint"] != "edge2"
        assert _calls(fault_server, "echo") == echoed
        assert "edge2" not in httpx.get(f"http://127.0.0.1:{port}/openapi.json").text
        assert httpx.delete(f"{base}/edge2", headers=ADMIN).status_code == 404
        assert httpx.delete(f"{base}/device", headers=ADMIN).status_code == 400


def test_a_member_that_fails_its_health_check_or_is_malformed_changes_nothing(tmp_path: Path, upstream_port: int,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINK_ADMIN_KEY", ADMIN_KEY)
    port = free_port()
    base = f"http://127.0.0.1:{port}/admin/endpoints"
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port), port):
        before = [m.id for m in _api(port).models.list()]
        dead = {"name": "dead", "endpoint": upstream(free_port(), "ok", "gpt-4o", "cloud", timeout_s=2.0)}
        answer = httpx.post(base, json=dead, headers=ADMIN, timeout=60)
        assert answer.status_code == 503 and "health check of 'dead' failed" in answer.json()["error"]["message"]
        stalled = {"name": "stalled", "endpoint": upstream(upstream_port, "stall", "gpt-4o", "cloud", timeout_s=30.0),
                   "health_timeout_s": 1.0}
        answer = httpx.post(base, json=stalled, headers=ADMIN, timeout=60)
        assert answer.status_code == 503 and "no answer within 1s" in answer.json()["error"]["message"]
        nowhere = {"name": "lost", "endpoint": upstream(upstream_port, "ok", "gpt-4o", "mars")}
        answer = httpx.post(base, json=nowhere, headers=ADMIN)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "endpoint.node"
        assert "unknown node 'mars'" in answer.json()["error"]["message"]
        bad_name = httpx.post(base, json={**nowhere, "name": "has space"}, headers=ADMIN)
        assert bad_name.status_code == 400 and bad_name.json()["error"]["param"] == "name"
        taken = httpx.post(base, json={**dead, "name": "tierlink-auto"}, headers=ADMIN)
        assert taken.status_code == 409
        assert [m.id for m in _api(port).models.list()] == before


def test_admin_routes_are_off_without_an_admin_key(tmp_path: Path, upstream_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIERLINK_ADMIN_KEY", raising=False)
    port = free_port()
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port), port):
        answer = httpx.get(f"http://127.0.0.1:{port}/admin/endpoints", headers=ADMIN)
        assert answer.status_code == 403 and "set TIERLINK_ADMIN_KEY" in answer.json()["error"]["message"]


def test_the_nway_router_learns_a_joining_member_from_its_graded_probes(tmp_path: Path, upstream_port: int,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    frame = load_from("zeroeval-gsm8k", None)
    models = {"Meta-Llama-3-8B-Instruct": "device", "Mixtral-8x7B-Instruct-v0.1": "edge", "claude-3-opus-20240229": "cloud"}
    NWayRouter().fit(frame[frame["model"].isin(list(models))].dropna(subset=["cost_usd"]), EmbeddingCache()).save(tmp_path / "nway")
    path = three_tiers(tmp_path / "gw.yaml", upstream_port)
    config = yaml.safe_load(path.read_text())
    config["policy"] = {"name": "nway", "params": {"model": str(tmp_path / "nway"),
                                                   "endpoints": ",".join(f"{m}={e}" for m, e in models.items())}}
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("TIERLINK_ADMIN_KEY", ADMIN_KEY)
    port = free_port()
    probes = [{"question": "Repeat this number: 42", "answer": "42"}, {"question": "Repeat this number: 17", "answer": "17"},
              {"question": "What is six times seven?", "answer": "42"}, {"question": "What is ten plus seven?", "answer": "17"}]
    with gateway(path, port):
        member = {"name": "parrot", "endpoint": upstream(upstream_port, "echo", "gpt-4o-mini", "cloud"), "probes": probes}
        report = httpx.post(f"http://127.0.0.1:{port}/admin/endpoints", json=member, headers=ADMIN, timeout=60).json()
    assert report["probes"] == 4 and report["probes_right"] == 2  # the echo repeats: right when the answer is in the question
    assert report["policies"]["tierlink-auto"].startswith("nway: joined with ability") and "(2 right)" in report["policies"]["tierlink-auto"]
    assert report["probe_dollars"] > 0
    with Store(Path(config["serve"]["database"])) as store:
        spent = store.spend_totals()
    assert spent["requests"] == 5 and spent["dollars"] > report["probe_dollars"]  # the health check and 4 probes, recorded
