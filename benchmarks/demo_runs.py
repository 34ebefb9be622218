"""`tierlink demo` as a new user runs it, over several seeds: does collaboration pay, and how long?

Runs the installed CLI (`tierlink demo --json`) in a fresh process per seed, so each wall time
includes interpreter start, assembling the model into an empty cache and loading it, and reports per seed and in total: the cascade's
accuracy against always-device and always-cloud, the device's accuracy on the turns it answered
itself, the dollars of each policy and the wall seconds. Device answers are **live**, the cloud's
are **replay** (recorded), link times **simulated**.

    python benchmarks/demo_runs.py [--model qwen2.5-coder-1.5b] [--seeds 0,1,2,3,4] [--turns 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TIERLINK = str(Path(sys.executable).with_name("tierlink"))


def run(model: str | None, seed: int, turns: int) -> tuple[dict[str, dict[str, float]], float]:
    """One demo: the summary records by policy, and the wall seconds of the whole command (with an
    empty model cache, as on a fresh machine: the GGUF is assembled and verified inside the run)."""
    command = [TIERLINK, "demo", "--json", "--seed", str(seed), "--turns", str(turns)] + (["--model", model] if model else [])
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                env={**os.environ, "HF_HUB_OFFLINE": "1", "TIERLINK_CACHE": cache})
        wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"demo failed (seed {seed}): {result.stdout[-500:]} {result.stderr[-500:]}")
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    return {record["policy"]: record for record in summary}, wall


def main(model: str | None, seeds: list[int], turns: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"demo_runs ({date.today()}, commit {commit}; device {model or 'the most capable installed'}, live; "
          f"cloud replay; {turns} questions per seed)\n")
    print("| seed | cascade correct | always-device | always-cloud | device ok / accepted | refused (cascade, device) | cascade $ | cloud $ | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {"cascade": 0, "always-device": 0, "always-cloud": 0, "accepted": 0, "accepted_ok": 0,
              "cascade_usd": 0.0, "cloud_usd": 0.0, "refused": 0, "device_refused": 0}
    walls = []
    for seed in seeds:
        by, wall = run(model, seed, turns)
        walls.append(wall)
        c = by["cascade"]
        for name in ("cascade", "always-device", "always-cloud"):
            totals[name] += by[name]["correct"]
        totals["accepted"] += c["device_turns"]
        totals["accepted_ok"] += c["device_correct"]
        totals["cascade_usd"] += c["dollars"]
        totals["refused"] += c["refused"]
        totals["device_refused"] += by["always-device"]["refused"]
        totals["cloud_usd"] += by["always-cloud"]["dollars"]
        print(f"| {seed} | {c['correct']}/{turns} | {by['always-device']['correct']}/{turns} | "
              f"{by['always-cloud']['correct']}/{turns} | {c['device_correct']}/{c['device_turns']} | "
              f"{c['refused']}, {by['always-device']['refused']} | {c['dollars']:.6f} | {by['always-cloud']['dollars']:.6f} | {wall:.0f} |", flush=True)
    n = turns * len(seeds)
    accepted = totals["accepted"]
    print(f"| all | {totals['cascade'] / n:.3f} | {totals['always-device'] / n:.3f} | {totals['always-cloud'] / n:.3f} | "
          f"{totals['accepted_ok']}/{accepted} = {totals['accepted_ok'] / max(1, accepted):.3f} | "
          f"{totals['refused']}, {totals['device_refused']} | {totals['cascade_usd']:.6f} | {totals['cloud_usd']:.6f} | max {max(walls):.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--turns", type=int, default=6)
    args = parser.parse_args()
    main(args.model, [int(s) for s in args.seeds.split(",")], args.turns)
