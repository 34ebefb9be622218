"""Gateway overhead: the latency a gateway adds, and the throughput it sustains, in front of the
same local OpenAI-compatible upstream (tests/servers/fault_server.py, route /ok: answers at once).

Targets, measured in one run with interleaved rounds (the machine is shared and noisy):
  direct            the client calls the upstream itself (one JSON response)
  tierlink          `tierlink serve`, model tierlink-auto (policy always-cloud: a full Session
                    turn — state, worst-case reservation, breaker, fallback chain, SQLite spend
                    record, metrics), calling the upstream as `direct` does (stream_upstream: false)
  litellm           LiteLLM's proxy, calling the upstream as `direct` does (optional: --litellm
                    PATH to its `litellm` executable, installed apart, pinned; never 1.82.7 / 1.82.8)
  direct-stream     the client streams from the upstream (whose stream takes ~30 ms by design)
  tierlink-stream   `tierlink serve` with its default stream_upstream: true (first-chunk
                    timeouts, broken streams caught); its overhead is against direct-stream
All numbers are live wall-clock times on loopback.

    python benchmarks/gateway_overhead.py [--requests 1000] [--rounds 3] [--litellm /path/to/litellm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.servers.gateway import three_tiers  # noqa: E402
from tests.servers.process import free_port, running  # noqa: E402

BODY = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 16}


async def batch(url: str, model: str, requests: int, concurrency: int, stream: bool = False) -> tuple[list[float], float, int]:
    """Per-request latencies (s, to the whole answer), wall time, and failures of `requests` calls at `concurrency`."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def one() -> None:
            nonlocal failures
            async with gate:
                started = time.perf_counter()
                body = BODY | {"model": model, "stream": stream}
                if stream:
                    async with client.stream("POST", url, json=body, headers={"Authorization": "Bearer x"}) as response:
                        text = "".join([line async for line in response.aiter_lines()])
                    ok = response.status_code == 200 and text.endswith("data: [DONE]")
                else:
                    response = await client.post(url, json=body, headers={"Authorization": "Bearer x"})
                    ok = response.status_code == 200 and bool(response.json()["choices"][0]["message"]["content"])
                latencies.append(time.perf_counter() - started)
                failures += not ok
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return latencies, time.perf_counter() - started, failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(requests: int, rounds: int, litellm: Path | None) -> None:
    upstream_port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp, running([str(ROOT / "tests/servers/fault_server.py"), str(upstream_port)],
                                                       f"http://127.0.0.1:{upstream_port}/stats"):
        direct = f"http://127.0.0.1:{upstream_port}/ok/v1/chat/completions"
        targets: dict[str, tuple[str, str, bool]] = {"direct": (direct, "fault-model", False)}
        servers = []
        for name, stream in (("tierlink", False), ("tierlink-stream", True)):
            port = free_port()
            config = three_tiers(Path(tmp) / f"{name}.yaml", upstream_port, stream_upstream=stream, database=str(Path(tmp) / f"{name}.sqlite3"))
            servers.append(running(["-m", "tierlink.cli", "serve", "--config", str(config), "--port", str(port)],
                                   f"http://127.0.0.1:{port}/ready", timeout_s=120))
            targets[name] = (f"http://127.0.0.1:{port}/v1/chat/completions", "tierlink-auto", False)
        if litellm is not None:
            port = free_port()
            config_path = Path(tmp) / "litellm.yaml"
            config_path.write_text(yaml.safe_dump({
                "model_list": [{"model_name": "bench", "litellm_params": {
                    "model": "openai/fault-model", "api_base": f"http://127.0.0.1:{upstream_port}/ok/v1", "api_key": "x"}}],
                "litellm_settings": {"telemetry": False, "drop_params": True},
            }), encoding="utf-8")
            env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "LITELLM_LOG": "ERROR"})
            os.environ.update(env)
            servers.append(running_executable([str(litellm), "--config", str(config_path), "--port", str(port), "--host", "127.0.0.1"],
                                              f"http://127.0.0.1:{port}/health/liveliness", Path(tmp) / "litellm.log"))
            targets["litellm"] = (f"http://127.0.0.1:{port}/v1/chat/completions", "bench", False)
        targets["direct-stream"] = (direct, "fault-model", True)
        for server in servers:
            server.__enter__()
        try:
            for url, model, stream in targets.values():  # warm-up: connections, lazy imports, caches
                asyncio.run(batch(url, model, 64, 8, stream))
            serial: dict[str, list[float]] = {n: [] for n in targets}
            loaded: dict[str, list[float]] = {n: [] for n in targets}
            rates: dict[str, list[float]] = {n: [] for n in targets}
            failures: dict[str, int] = dict.fromkeys(targets, 0)
            for _ in range(rounds):
                for name, (url, model, stream) in targets.items():
                    lat, _, failed = asyncio.run(batch(url, model, max(50, requests // 10), 1, stream))
                    serial[name] += lat
                    lat, wall, failed32 = asyncio.run(batch(url, model, requests, 32, stream))
                    loaded[name] += lat
                    rates[name].append(requests / wall)
                    failures[name] += failed + failed32
        finally:
            for server in reversed(servers):
                server.__exit__(None, None, None)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    print(f"gateway_overhead ({date.today()}, commit {commit}; live, loopback, {rounds} interleaved rounds; "
          f"{requests} requests at concurrency 32 and {max(50, requests // 10)} at concurrency 1 per round)\n")
    print("| target | baseline | p50 c=1 (ms) | added p50 c=1 (ms) | p99 c=1 (ms) | added p99 c=1 (ms) | p50 c=32 (ms) | "
          "p99 c=32 (ms) | req/s c=32 | failures |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    added: dict[str, float] = {}
    for name in targets:
        base = "direct-stream" if name == "tierlink-stream" else "direct"
        p50_1, p99_1 = statistics.median(serial[name]), percentile(serial[name], 0.99)
        added[name] = p50_1 - statistics.median(serial[base])
        added_p99 = p99_1 - percentile(serial[base], 0.99)
        print(f"| {name} | {base if name != base else '-'} | {1000 * p50_1:.2f} | {1000 * added[name]:.2f} | {1000 * p99_1:.2f} | "
              f"{1000 * added_p99:.2f} | {1000 * statistics.median(loaded[name]):.1f} | {1000 * percentile(loaded[name], 0.99):.1f} | "
              f"{statistics.median(rates[name]):.0f} | {failures[name]} |")
    if "litellm" in targets:
        print(f"\ntierlink's added median latency (c=1) is {added['tierlink'] / added['litellm']:.2f} of LiteLLM's "
              f"(goal: at most 0.33); throughput at c=32 is {statistics.median(rates['tierlink']) / statistics.median(rates['litellm']):.2f}x "
              "LiteLLM's (goal: at least 1)")


class running_executable:  # noqa: N801 - used like `running`, for a non-Python executable
    """Like tests.servers.process.running, for an executable that is not a Python script."""

    def __init__(self, args: list[str], ready_url: str, log: Path) -> None:
        self.args, self.ready_url, self.log = args, ready_url, log

    def __enter__(self) -> subprocess.Popen:
        self.out = self.log.open("w")
        self.process = subprocess.Popen(self.args, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited with {self.process.returncode}; see {self.log}: "
                                   + self.log.read_text()[-2000:])
            try:
                if httpx.get(self.ready_url, timeout=1).status_code == 200:
                    return self.process
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.args[0]} not ready after 180 s")
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.out.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--litellm", type=Path, default=None, help="path to LiteLLM's `litellm` proxy executable")
    args = parser.parse_args()
    main(args.requests, args.rounds, args.litellm)
