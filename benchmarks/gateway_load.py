"""The gateway under load with a mixed fleet: an in-process device model (llama.cpp), a llama.cpp
server as the edge, and a replayed cloud, at concurrency 64 — with admission control, and
without it (every queue unbounded), side by side in one run.

Requests cycle through the models `device`, `edge`, `cloud` and `tierlink-auto` (a cascade that
drafts on the device). Prompts are the shipped RouterArena multiple-choice questions (the replayed
cloud answers those). Quality is not measured here: only status codes, wall-clock latency of each
request (live, loopback), and who answered. The request cap is `serve.request_latency_s`.

    python benchmarks/gateway_load.py [--requests 256] [--concurrency 64] [--cap 30]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.servers.process import free_port, running  # noqa: E402
from tierlink.config.load import outcome_path  # noqa: E402
from tierlink.endpoints.model_catalogue import model_catalogue  # noqa: E402
from tierlink.endpoints.model_files import gguf_path  # noqa: E402
from tierlink.endpoints.outcome_table import OutcomeTable  # noqa: E402

MODELS = ("device", "edge", "cloud", "tierlink-auto")
CLOUD_MODEL = "gemini-2.0-flash-001"
UNBOUNDED = 100_000


def config(folder: Path, edge_port: int, device_model: str, cap: float, admission: bool) -> Path:
    """The three-tier deployment; without admission every queue is (practically) unbounded."""
    limits = {} if admission else {"max_concurrency": UNBOUNDED, "max_queue": UNBOUNDED}
    spec = {
        "nodes": {"robot": {"tier": "device"}, "edge": {"tier": "edge"}, "cloud": {"tier": "cloud"}},
        "links": {"robot-edge": {"a": "robot", "b": "edge", "profile": "wifi"},
                  "robot-cloud": {"a": "robot", "b": "cloud", "profile": "5g"}},
        "endpoints": {
            "device": {"kind": "llamacpp", "node": "robot", "model": device_model, "n_threads": 1, **limits},
            "edge": {"kind": "openai", "node": "edge", "base_url": f"http://127.0.0.1:{edge_port}/v1", "model": "edge-model",
                     "profile": "edge-l4/llama3.1-8b", "api_key_env": "TIERLINK_NO_KEY", "timeout_s": cap, "max_retries": 0,
                     **({"max_concurrency": 1} if admission else limits)},  # the server decodes one request at a time
            "cloud": {"kind": "replay", "node": "cloud", "outcomes": "builtin:routerarena_mcq", "model": CLOUD_MODEL,
                      "profile": "gemini-2.0-flash"},
        },
        "device": "device", "policy": {"name": "cascade"}, "budget": {"latency_s": cap},
        "serve": {"database": str(folder / f"load-{admission}.sqlite3"), "request_latency_s": cap},
    }
    path = folder / f"gateway-{'admission' if admission else 'unbounded'}.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


async def load(port: int, prompts: list[str], requests: int, concurrency: int) -> list[tuple[int, float, str]]:
    """(status, seconds, who answered) of each request, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(i: int) -> tuple[int, float, str]:
            body = {"model": MODELS[i % len(MODELS)], "max_tokens": 24,
                    "messages": [{"role": "user", "content": prompts[i % len(prompts)]}]}
            async with gate:
                started = time.monotonic()
                response = await client.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body)
                seconds = time.monotonic() - started
            payload = response.json()
            if response.status_code == 200:
                return response.status_code, seconds, payload["tierlink"]["endpoint"] or "-"
            return response.status_code, seconds, f"{body['model']}: {payload['error']['message'][:300]}"
        return await asyncio.gather(*(one(i) for i in range(requests)))


def summary(arm: str, results: list[tuple[int, float, str]], cap: float) -> str:
    statuses = collections.Counter(status for status, _, _ in results)
    seconds = sorted(s for _, s, _ in results)
    quantile = statistics.quantiles(seconds, n=100)
    who = collections.Counter(w for status, _, w in results if status == 200)
    five = sum(n for s, n in statuses.items() if s >= 500)
    return (f"| {arm} | {len(results)} | {statuses.get(200, 0)} | {five} ({dict((s, n) for s, n in statuses.items() if s >= 500)}) "
            f"| {quantile[49]:.2f} | {quantile[94]:.2f} | {quantile[98]:.2f} | {seconds[-1]:.2f} | "
            f"{sum(s > cap for s in seconds)} | {who.get('device', 0)}/{who.get('edge', 0)}/{who.get('cloud', 0)} |")


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    entry = model_catalogue().require(args.model, "--model")
    prompts = [row.prompt for row in OutcomeTable.from_path(outcome_path("builtin:routerarena_mcq", "load")).rows()
               if row.model == CLOUD_MODEL]
    edge_port = free_port()
    rows: list[str] = []
    refusals: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, running(
            ["-m", "tierlink.endpoints.llama_server", "--model", str(gguf_path(entry)), "--host", "127.0.0.1", "--port", str(edge_port),
             "--n_ctx", "2048", "--n_threads", "1", "--model_alias", "edge-model",
             "--interrupt_requests", "False"],  # its default lets a new request cut the stream in progress
            f"http://127.0.0.1:{edge_port}/v1/models"):
        for admission in (True, False):
            port = free_port()
            path = config(Path(tmp), edge_port, args.model, args.cap, admission)
            with running(["-m", "tierlink.cli", "serve", "--config", str(path), "--port", str(port)],
                         f"http://127.0.0.1:{port}/ready", timeout_s=180):
                asyncio.run(load(port, prompts, 4, 1))  # warm: the first llama.cpp calls load caches
                started = time.monotonic()
                results = asyncio.run(load(port, prompts, args.requests, args.concurrency))
                arm = "admission control" if admission else "unbounded queues"
                rows.append(summary(arm, results, args.cap) + f" {time.monotonic() - started:.0f} |")
                refusals += [(arm, who) for status, _, who in results if status != 200][:3]
    print(f"\n{args.requests} requests at concurrency {args.concurrency}, request cap {args.cap:.0f} s, device "
          f"{args.model} in process, edge llama.cpp server, cloud replayed; commit {commit} (live wall-clock)\n")
    print("| arm | requests | 200 | 5xx | p50 s | p95 s | p99 s | max s | over cap | answered device/edge/cloud | run s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    for arm, why in refusals:
        print(f"\n{arm}, a refusal: {why}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--cap", type=float, default=30.0, help="serve.request_latency_s")
    parser.add_argument("--model", default="smollm2-135m", help="catalogue model for the device and the edge server")
    main(parser.parse_args())
