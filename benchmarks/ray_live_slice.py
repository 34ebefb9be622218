"""The live slice of the Ray comparison: a team of embedded models runs the same seeded debate on
asyncio and on a local Ray cluster, each runtime in its own `tierlink team run` process (a
driver that loads llama.cpp itself while Ray runs exited silently here; the CLI loads models only
in the actors). Answers and the ledger are compared in full except wall-clock stamps. (live)

    python benchmarks/ray_live_slice.py [--agents 3 --rounds 1 --limit 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIERLINK = Path(sys.executable).with_name("tierlink")
COMPARED = ("task", "answer", "rounds", "stopped_because", "model_tokens", "messages", "message_tokens", "message_bytes", "link_seconds")


def run(runtime: str, folder: Path, args: argparse.Namespace) -> tuple[list[dict], list[dict], float]:
    """One `team run` process: its JSON lines, its ledger rows and its wall time."""
    ledger = folder / f"ledger-{runtime}.csv"
    command = [str(TIERLINK), "team", "run", "--agents", str(args.agents), "--rounds", str(args.rounds), "--limit", str(args.limit),
               "--json", "--runtime", runtime, "--ledger-csv", str(ledger)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=True)
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    with ledger.open(encoding="utf-8") as handle:
        return rows, list(csv.DictReader(handle)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=3)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        local, local_ledger, local_wall = run("asyncio", Path(folder), args)
        ray, ray_ledger, ray_wall = run("ray", Path(folder), args)
    same_tasks = sum(all(a[k] == b[k] for k in COMPARED) for a, b in zip(local, ray, strict=True))
    def stamped(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "time_s"} for row in rows]
    same_ledger = stamped(local_ledger) == stamped(ray_ledger)
    print(f"# ray_live_slice.py, commit {commit} (live: the embedded default team)")
    print("| agents | rounds | tasks | messages | same answers and figures | same ledger (but stamps) | asyncio process s | Ray process s | "
          "asyncio s per task | Ray s per task |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    per_task = {name: ", ".join(f"{r['wall_s']:.1f}" for r in rows) for name, rows in (("asyncio", local), ("ray", ray))}
    print(f"| {args.agents} | {args.rounds} | {len(local)} | {len(local_ledger)} | {same_tasks}/{len(local)} | {'yes' if same_ledger else 'no'} | "
          f"{local_wall:.1f} | {ray_wall:.1f} | {per_task['asyncio']} | {per_task['ray']} |")


if __name__ == "__main__":
    main()
