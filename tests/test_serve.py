"""`tierlink serve` as a real process, driven by the official openai client, in front of real
upstream processes that fail on purpose (tests/servers/fault_server.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers.gateway import gateway, three_tiers, upstream
from tests.servers.process import free_port, running
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.serve.store import Store

SERVERS = Path(__file__).parent / "servers"
ONE_CLOUD_CALL = endpoint_profiles()["gpt-4o"].dollars(7, 3, 0)  # the fault server's streamed usage
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def upstream_port(fault_server: str) -> int:
    return int(fault_server.rsplit(":", 1)[1])


def client(port: int, key: str = "no-key") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=60)


def tierlink_of(completion: object) -> dict:
    return completion.model_extra["tierlink"]  # type: ignore[attr-defined]


def test_chat_streaming_models_health_metrics_and_errors(tmp_path: Path, upstream_port: int) -> None:
    port = free_port()
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port), port):
        api = client(port)
        assert {"tierlink-auto", "tierlink-cascade", "cloud", "edge", "device"} <= {m.id for m in api.models.list()}
        raw = api.chat.completions.with_raw_response.create(model="tierlink-auto", messages=HI)
        completion = raw.parse()
        assert raw.headers["x-tierlink-endpoint"] == "cloud" and raw.headers["x-request-id"]
        assert completion.choices[0].message.content == "all good here"
        assert completion.usage.prompt_tokens == 7 and completion.usage.completion_tokens == 3
        extra = tierlink_of(completion)
        assert extra["endpoint"] == "cloud" and not extra["fallback"]
        assert extra["usage"]["dollars"] == pytest.approx(ONE_CLOUD_CALL)

        chunks = list(api.chat.completions.create(model="edge", messages=HI, stream=True,
                                                  stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "all good here"
        assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 10
        assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
        without_usage = list(api.chat.completions.create(model="edge", messages=HI, stream=True))
        assert all(c.usage is None for c in without_usage)

        with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-9'"):
            api.chat.completions.create(model="gpt-9", messages=HI)
        with pytest.raises(openai.BadRequestError, match="last message must be the user"):
            api.chat.completions.create(model="tierlink-auto", messages=[*HI, {"role": "assistant", "content": "x"}])
        with pytest.raises(openai.BadRequestError, match="max_tokens"):
            api.chat.completions.create(model="tierlink-auto", messages=HI, max_tokens=0)
        broken = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", content=b"{not json",
                            headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"]["type"] == "invalid_request_error"
        assert "not valid JSON" in broken.json()["error"]["message"]
        assert httpx.get(f"http://127.0.0.1:{port}/nowhere").json()["error"]["message"] == "Not Found"

        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/ready").json()["ready"] is True
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'tierlink_requests_total{model="tierlink-auto",status="200"} 1.0' in metrics
        assert 'tierlink_requests_total{model="unknown",status="404"} 1.0' in metrics and "gpt-9" not in metrics
        assert 'tierlink_route_decisions_total{endpoint="edge"} 2.0' in metrics
        assert "tierlink_request_duration_seconds_bucket" in metrics and "session=" not in metrics and "user=" not in metrics


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierlink.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_keys_budgets_and_rate_limits(tmp_path: Path, upstream_port: int) -> None:
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, cloud=upstream(upstream_port, "ok", "gpt-4o", "cloud"),
                         fallback=["cloud"], session_dollars=1.0)  # a cloud-only deployment: no cheaper tier
    db = tmp_path / "gateway.sqlite3"
    created = _cli("keys", "create", "--name", "app", "--dollars", "0.0005", "--database", str(db))
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    slow = _cli("keys", "create", "--name", "slow", "--rpm", "2", "--database", str(db)).stdout.strip()
    listing = _cli("keys", "list", "--database", str(db))
    assert "app" in listing.stdout and secret not in listing.stdout
    assert _cli("keys", "create", "--name", "app", "--database", str(db)).returncode == 2
    moon = _cli("keys", "create", "--name", "moon", "--zones", "device,moon", "--config", str(config), "--database", str(db))
    assert moon.returncode == 2 and "--zones" in moon.stderr and "moon" in moon.stderr and "Traceback" not in moon.stderr
    port = free_port()
    with gateway(config, port):
        anonymous = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"model": "cloud", "messages": HI})
        assert anonymous.status_code == 401 and "missing API key" in anonymous.json()["error"]["message"]
        with pytest.raises(openai.AuthenticationError, match="invalid or revoked"):
            client(port, "tl-wrong").chat.completions.create(model="cloud", messages=HI)
        with pytest.raises(openai.AuthenticationError):
            client(port, "tl-wrong").models.list()

        api = client(port, secret)
        answered, spent = 0, 0.0
        with pytest.raises(openai.APIStatusError) as refused:
            for _ in range(50):
                completion = api.chat.completions.create(model="cloud", messages=HI, max_tokens=10)
                answered += 1
                spent += tierlink_of(completion)["usage"]["dollars"]
        assert refused.value.status_code == 402 and "budget" in refused.value.message
        assert answered >= 2 and spent <= 0.0005
        with Store(db) as store:
            totals = store.spend_totals()
            key_spent = dict((k.name, s) for k, s in store.keys())["app"]
        assert key_spent == pytest.approx(spent, abs=1e-12) and totals["dollars"] == pytest.approx(spent, abs=1e-12)

        limited = client(port, slow)
        limited.chat.completions.create(model="edge", messages=HI)
        limited.chat.completions.create(model="edge", messages=HI)
        with pytest.raises(openai.RateLimitError, match="2 requests per minute") as too_many:
            limited.chat.completions.create(model="edge", messages=HI)
        assert int(too_many.value.response.headers["retry-after"]) >= 1

        assert _cli("keys", "revoke", "slow", "--database", str(db)).returncode == 0
        with pytest.raises(openai.AuthenticationError, match="revoked"):
            limited.chat.completions.create(model="edge", messages=HI)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"authorization": f"Bearer {secret}"}).text
        assert 'tierlink_budget_refusals_total{scope="key"} 1.0' in metrics and "tierlink_rate_limited_total 1.0" in metrics


@pytest.mark.parametrize("fault, why", [("error500", "HTTP 500"), ("stall", "first chunk"), ("halfstream", "stream broke")])
def test_a_failing_cloud_falls_back_and_its_breaker_opens(tmp_path: Path, upstream_port: int, fault: str, why: str) -> None:
    httpx.post(f"http://127.0.0.1:{upstream_port}/reset")
    port = free_port()
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port, cloud_fault=fault), port):
        api = client(port)
        answers = [api.chat.completions.create(model="tierlink-auto", messages=HI) for _ in range(3)]
        first, second, third = (tierlink_of(a) for a in answers)
        assert all(a.choices[0].message.content == "all good here" for a in answers)
        assert first["endpoint"] == second["endpoint"] == "edge" and first["fallback"] and why in first["reason"]
        assert third["endpoint"] == "edge"  # the breaker is open: the cloud is not even tried
        calls = httpx.get(f"http://127.0.0.1:{upstream_port}/stats").json()
        assert calls[fault] == 2
        assert 'tierlink_breaker_state{endpoint="cloud"} 2.0' in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        with Store(tmp_path / "gateway.sqlite3") as store:
            totals, charged = store.spend_totals(), store.charge_totals()
        if fault == "halfstream":  # the two broken cloud streams are charged an estimate of what they sent
            assert totals["requests"] == 3 and totals["output_tokens"] > 9 and totals["dollars"] > 0
            assert charged["charges"] == 5
        else:  # the edge's three answers (free); a cloud that sent nothing is charged nothing
            assert totals == {"requests": 3, "input_tokens": 21, "output_tokens": 9, "dollars": 0.0}
            assert charged["charges"] == 3
        assert charged["dollars"] == pytest.approx(totals["dollars"], abs=1e-12)
        assert charged["output_tokens"] == totals["output_tokens"]


def test_a_down_cloud_recovers_when_its_breaker_probes_again(tmp_path: Path, upstream_port: int) -> None:
    dead = free_port()
    cloud = upstream(dead, "ok", "gpt-4o", "cloud")
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, cloud=cloud)
    port = free_port()
    with gateway(config, port):
        api = client(port)
        down = [tierlink_of(api.chat.completions.create(model="tierlink-auto", messages=HI)) for _ in range(3)]
        assert [d["endpoint"] for d in down] == ["edge"] * 3 and "cannot connect" in down[0]["reason"]
        with running([str(SERVERS / "fault_server.py"), str(dead)], f"http://127.0.0.1:{dead}/stats"):
            time.sleep(1.2)  # the breaker's reset_after_s: the next call is the half-open probe
            back = tierlink_of(api.chat.completions.create(model="tierlink-auto", messages=HI))
            assert back["endpoint"] == "cloud" and not back["fallback"]
            assert 'tierlink_breaker_state{endpoint="cloud"} 0.0' in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        with Store(tmp_path / "gateway.sqlite3") as store:
            assert store.spend_totals()["dollars"] == pytest.approx(ONE_CLOUD_CALL)


def test_load_2000_requests_at_concurrency_32_with_exact_spend(tmp_path: Path, upstream_port: int) -> None:
    port = free_port()
    total, concurrency = 2000, 32
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port), port):
        async def run() -> list[object]:
            api = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=120)
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> object:
                async with gate:
                    try:
                        return await api.chat.completions.create(model="cloud", messages=[{"role": "user", "content": f"q{i}"}])
                    except openai.APIError as exc:
                        return exc
            try:
                return await asyncio.gather(*(one(i) for i in range(total)))
            finally:
                await api.close()

        results = asyncio.run(run())
        errors = [r for r in results if isinstance(r, Exception)]
        assert errors == []
        assert {tierlink_of(r)["endpoint"] for r in results} == {"cloud"}
        reported = sum(tierlink_of(r)["usage"]["dollars"] for r in results)
        with Store(tmp_path / "gateway.sqlite3") as store:
            totals = store.spend_totals()
        assert totals["requests"] == total and totals["output_tokens"] == 3 * total
        assert totals["dollars"] == pytest.approx(total * ONE_CLOUD_CALL, rel=1e-9) == pytest.approx(reported, rel=1e-9)


def test_a_restart_keeps_the_session_budget(tmp_path: Path, upstream_port: int) -> None:
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, fallback=["cloud"], session_dollars=0.0003)
    port = free_port()
    session = {"X-Tierlink-Session": "robot-7"}
    with gateway(config, port):
        first = tierlink_of(client(port).chat.completions.create(model="cloud", messages=HI, max_tokens=10, extra_headers=session))
    assert first["budget_left"]["session_dollars"] == pytest.approx(0.0003 - ONE_CLOUD_CALL)
    spent = ONE_CLOUD_CALL
    with gateway(config, port):
        api = client(port)
        second = tierlink_of(api.chat.completions.create(model="cloud", messages=HI, max_tokens=10, extra_headers=session))
        assert second["budget_left"]["session_dollars"] == pytest.approx(0.0003 - 2 * ONE_CLOUD_CALL)
        other = tierlink_of(api.chat.completions.create(model="cloud", messages=HI, max_tokens=10, user="someone-else"))
        assert other["budget_left"]["session_dollars"] == pytest.approx(0.0003 - ONE_CLOUD_CALL)
        spent += ONE_CLOUD_CALL
        with pytest.raises(openai.APIStatusError) as refused:
            for _ in range(20):
                api.chat.completions.create(model="cloud", messages=HI, max_tokens=10, extra_headers=session)
                spent += ONE_CLOUD_CALL
        assert refused.value.status_code == 402 and "budget" in refused.value.message
    with Store(tmp_path / "gateway.sqlite3") as store:
        record = store.session("open:robot-7")
        assert record is not None and record.spent_dollars == pytest.approx(spent) and spent <= 0.0003
        assert store.spend_totals("open:robot-7")["dollars"] == pytest.approx(spent)


def test_shutdown_drains_requests_in_flight(tmp_path: Path, upstream_port: int) -> None:
    port = free_port()
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, cloud=upstream(upstream_port, "slow1500", "gpt-4o", "cloud"))
    with gateway(config, port) as process:
        result: dict[str, object] = {}

        def ask() -> None:
            try:
                result["answer"] = client(port).chat.completions.create(model="cloud", messages=HI)
            except openai.APIError as exc:
                result["error"] = exc

        caller = threading.Thread(target=ask)
        caller.start()
        time.sleep(0.6)
        process.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        # uvicorn drains, then re-raises the signal it caught: the exit status is SIGTERM's
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "error" not in result
    assert tierlink_of(result["answer"])["endpoint"] == "cloud"
    with Store(tmp_path / "gateway.sqlite3") as store:
        assert store.spend_totals()["requests"] == 1


@pytest.mark.model
def test_the_default_deployment_serves_the_embedded_model_live(tmp_path: Path) -> None:
    port = free_port()
    args = ["-m", "tierlink.cli", "serve", "--port", str(port), "--database", str(tmp_path / "gw.sqlite3")]
    with running(args, f"http://127.0.0.1:{port}/health", timeout_s=180):
        deadline = time.monotonic() + 180
        while httpx.get(f"http://127.0.0.1:{port}/ready").status_code != 200:  # the model loads in the background
            assert time.monotonic() < deadline, "the embedded model never became ready"
            time.sleep(0.5)
        api = client(port)
        completion = api.chat.completions.create(model="gemma", messages=[{"role": "user", "content": "Name a colour."}],
                                                 max_tokens=8)
        extra = tierlink_of(completion)
        assert extra["endpoint"] == "gemma" and extra["usage"]["origin"].startswith("live")
        assert completion.choices[0].message.content.strip() and completion.usage.completion_tokens > 0
        auto = api.chat.completions.create(model="tierlink-auto", messages=[{"role": "user", "content": "Say hi."}], max_tokens=8)
        assert tierlink_of(auto)["endpoint"] in {"gemma", "cloud"} and tierlink_of(auto)["reason"]
        example = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "examples" / "gateway_client.py"),
                                  "--base-url", f"http://127.0.0.1:{port}/v1"], capture_output=True, text=True, timeout=300)
        assert example.returncode == 0, example.stderr
        assert example.stdout.count("answered by") == 2 and "streaming:" in example.stdout


def test_the_example_gateway_config_is_valid() -> None:
    from tierlink.config.load import load_config

    config = load_config(Path(__file__).parents[1] / "examples" / "gateway.yaml")
    assert config.serve.fallback == ("gpt", "edge-llama", "gemma") and config.serve.stream == "live"


def test_without_keys_only_loopback_is_allowed_and_bad_configs_are_named(tmp_path: Path, upstream_port: int) -> None:
    config = three_tiers(tmp_path / "gw.yaml", upstream_port)
    refused = _cli("serve", "--config", str(config), "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2 and "serve.host" in refused.stderr and "tierlink keys create" in refused.stderr
    bad = three_tiers(tmp_path / "bad.yaml", upstream_port, fallback=["cloud", "moon"])
    wrong = _cli("serve", "--config", str(bad), "--port", str(free_port()))
    assert wrong.returncode == 2 and "serve.fallback[1]" in wrong.stderr and "moon" in wrong.stderr


def test_a_trained_router_is_served_as_tierlink_learned(tmp_path: Path, upstream_port: int) -> None:
    from tierlink.bench.datasets import load_dataset
    from tierlink.bench.evaluate import prepare
    from tierlink.learn.embeddings import EmbeddingCache
    from tierlink.learn.train import train_router

    weak, strong = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"
    split = prepare("routellm-gsm8k", load_dataset("routellm-gsm8k"), weak, strong, 0.3, 0)
    train_router(split.train, weak, strong, "logreg", tmp_path / "router", EmbeddingCache(tmp_path / "emb.sqlite"))
    port = free_port()
    with gateway(three_tiers(tmp_path / "gw.yaml", upstream_port, learned_model=str(tmp_path / "router")), port):
        api = client(port)
        assert "tierlink-learned" in {m.id for m in api.models.list()}
        answer = tierlink_of(api.chat.completions.create(model="tierlink-learned", messages=[
            {"role": "user", "content": split.pair.prompts[0]}], max_tokens=16))
        assert answer["endpoint"] in {"cloud", "device"} and answer["reason"].startswith("learned logreg: score")


def _stream_pieces(api: openai.OpenAI, model: str = "tierlink-auto") -> tuple[list[str], list[object]]:
    pieces, chunks = [], []
    for chunk in api.chat.completions.create(model=model, messages=HI, stream=True, stream_options={"include_usage": True}):
        chunks.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return pieces, chunks


def test_live_streams_forward_pieces_and_fall_back_only_before_the_first(tmp_path: Path, upstream_port: int) -> None:
    port = free_port()
    with gateway(three_tiers(tmp_path / "a.yaml", upstream_port, cloud_fault="error500"), port):
        pieces, chunks = _stream_pieces(client(port))  # the cloud fails before its first piece: edge streams instead
        assert pieces == ["all ", "good ", "here"]
        final = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
        assert final.model_extra["tierlink"]["endpoint"] == "edge" and final.model_extra["tierlink"]["fallback"]
    with gateway(three_tiers(tmp_path / "b.yaml", upstream_port, cloud_fault="halfstream"), port):
        received: list[str] = []
        with pytest.raises(openai.APIError, match="broke off"):
            for chunk in client(port).chat.completions.create(model="tierlink-auto", messages=HI, stream=True):
                received += [chunk.choices[0].delta.content or ""] if chunk.choices else []
        assert "".join(received) == "all good "  # what the cloud sent before it broke; no second answer appended
        assert 'tierlink_requests_total{model="tierlink-auto",status="503"} 1.0' in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    with Store(tmp_path / "gateway.sqlite3") as store:
        totals = store.spend_totals()
    # the broken stream is charged for what it sent (estimated: the upstream reported no usage)
    assert totals["requests"] == 2 and totals["output_tokens"] > 0 and totals["dollars"] > 0
    with gateway(three_tiers(tmp_path / "c.yaml", upstream_port, cloud_fault="halfstream", stream="buffered"), port):
        pieces, chunks = _stream_pieces(client(port))  # buffered: the broken stream falls back, one piece
        # the usage is everything billed: the edge's 7 + 3 tokens and the broken cloud stream's estimate
        assert pieces == ["all good here"] and chunks[-1].usage.total_tokens > 10


def test_concurrent_requests_of_one_key_never_overspend_it(tmp_path: Path, upstream_port: int) -> None:
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, cloud=upstream(upstream_port, "slow200", "gpt-4o", "cloud"),
                         fallback=["cloud"])
    db = tmp_path / "gateway.sqlite3"
    with Store(db) as store:
        secret, _ = store.create_key("shared", dollars_limit=0.0005)
    port = free_port()
    with gateway(config, port):
        async def burst() -> list[object]:
            api = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=secret, max_retries=0, timeout=60)
            try:
                return await asyncio.gather(*(api.chat.completions.create(model="cloud", messages=HI, max_tokens=10)
                                              for _ in range(40)), return_exceptions=True)
            finally:
                await api.close()

        results = asyncio.run(burst())
    answered = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, openai.APIStatusError)]
    assert answered and refused and len(answered) + len(refused) == 40
    assert all(r.status_code == 402 for r in refused)
    with Store(db) as store:
        spent = dict((k.name, s) for k, s in store.keys())["shared"]
        assert spent <= 0.0005 and store.spend_totals()["dollars"] == pytest.approx(spent)
    assert spent == pytest.approx(len(answered) * ONE_CLOUD_CALL)


def test_a_rate_limited_cloud_is_retried_after_its_retry_after(tmp_path: Path, upstream_port: int) -> None:
    httpx.post(f"http://127.0.0.1:{upstream_port}/reset")
    config = three_tiers(tmp_path / "gw.yaml", upstream_port, cloud=upstream(upstream_port, "ratelimit", "gpt-4o", "cloud", max_retries=3),
                         breaker={"failures_to_open": 5})
    port = free_port()
    with gateway(config, port):
        answer = tierlink_of(client(port).chat.completions.create(model="tierlink-auto", messages=HI))
    assert answer["endpoint"] == "cloud" and not answer["fallback"]
    assert httpx.get(f"http://127.0.0.1:{upstream_port}/stats").json()["ratelimit"] == 3  # two 429s, then the answer
