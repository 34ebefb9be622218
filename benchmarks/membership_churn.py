"""Endpoints joining and leaving a running gateway under client load: how long a join takes, when
a member is first routed to, whether a departed one is ever called again, and whether any client
request fails while the membership changes. (live: real gateway and upstream processes on 127.0.0.1)

A `tierlink serve` process with three healthy tiers on the fault server; clients send requests
at a fixed concurrency to `tierlink-auto` and to the current members by name, while an admin
joins a member (its own fault-server route, so its calls are counted upstream), routes one
request to it, and removes it, `--cycles` times. A request to a member that has just left is
expected to get a 404 (counted apart); anything 5xx, or a call reaching a departed member's
route after its DELETE returned, is a failure.

    python benchmarks/membership_churn.py [--cycles 20 --concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.servers.gateway import gateway, three_tiers, upstream  # noqa: E402
from tests.servers.process import free_port, running  # noqa: E402

KEY = "churn-admin-key"
ADMIN = {"Authorization": f"Bearer {KEY}"}
HI = [{"role": "user", "content": "hi"}]


Answered = list[tuple[float, str | None]]  # (when the request was sent, the endpoint that answered)


async def clients(base: str, members: list[str], stop: asyncio.Event, concurrency: int,
                  answered: Answered) -> collections.Counter[str]:
    """Requests until `stop`: every status counted (a 404 only for a member named as it left)."""
    statuses: collections.Counter[str] = collections.Counter()

    async def one(client: httpx.AsyncClient, index: int) -> None:
        while not stop.is_set():
            model = members[index % len(members)] if members and index % 2 else "tierlink-auto"
            sent = time.perf_counter()
            answer = await client.post(f"{base}/v1/chat/completions", json={"model": model, "messages": HI})
            statuses[f"{answer.status_code}{' (member)' if model != 'tierlink-auto' else ''}"] += 1
            answered.append((sent, answer.headers.get("x-tierlink-endpoint")))
            index += 1

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client, i) for i in range(concurrency)))
    return statuses


async def churn(base: str, fault: str, port: int, cycles: int, concurrency: int) -> None:
    members: list[str] = []
    stop = asyncio.Event()
    answered: Answered = []
    load = asyncio.create_task(clients(base, members, stop, concurrency, answered))
    joins, first, finishing, left_at = [], [], 0, {}
    async with httpx.AsyncClient(timeout=60) as admin:
        for cycle in range(cycles):
            name, route = f"member{cycle}", f"echo-member{cycle}"
            started = time.perf_counter()
            joined = await admin.post(f"{base}/admin/endpoints", headers=ADMIN, json={
                "name": name, "endpoint": upstream(port, route, "edge-l4/llama3.1-8b", "edge")})
            joins.append(time.perf_counter() - started)
            assert joined.status_code == 201, joined.text
            members.append(name)
            routed = await admin.post(f"{base}/v1/chat/completions", json={"model": name, "messages": HI})
            first.append(routed.headers.get("x-tierlink-endpoint") == name)
            members.remove(name)
            assert (await admin.delete(f"{base}/admin/endpoints/{name}", headers=ADMIN)).status_code == 200
            left_at[name] = time.perf_counter()
            after = (await admin.get(f"{fault}/stats")).json().get(route, 0)
            await asyncio.sleep(0.5)  # let load run against the new membership
            finishing += (await admin.get(f"{fault}/stats")).json().get(route, 0) - after  # turns begun before the DELETE
    stop.set()
    statuses = await load
    failures = sum(n for status, n in statuses.items() if status.startswith("5"))
    leaked = sum(1 for sent, endpoint in answered if endpoint in left_at and sent > left_at[endpoint])
    print("| cycles | join s (median, max) | routed to on the first request | requests sent after a DELETE and answered by the departed member "
          "| upstream calls after a DELETE (turns begun before it) | client requests | 5xx | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {cycles} | {statistics.median(joins):.3f}, {max(joins):.3f} | {sum(first)}/{cycles} | {leaked} | {finishing} | "
          f"{sum(statuses.values())} | {failures} | {dict(sorted(statuses.items()))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"# membership_churn.py, commit {commit} (live)")
    os.environ["TIERLINK_ADMIN_KEY"] = KEY
    fault_port, port = free_port(), free_port()
    fault = f"http://127.0.0.1:{fault_port}"
    with tempfile.TemporaryDirectory() as folder, \
            running([str(ROOT / "tests/servers/fault_server.py"), str(fault_port)], f"{fault}/stats"), \
            gateway(three_tiers(Path(folder) / "gw.yaml", fault_port), port):
        asyncio.run(churn(f"http://127.0.0.1:{port}", fault, fault_port, args.cycles, args.concurrency))


if __name__ == "__main__":
    main()
