"""Is the task one a small device model can learn to defer on? Local accuracy by difficulty.

Before any training (issue 15, item 3): each catalogue model's greedy accuracy on arithmetic of
graded operand size, served by llama.cpp in process with the system turn that offers the help
tag (and without it), how often it already asks, and the cloud model's accuracy. Live, on this
CPU; held-out test items of seed 1000.

    python benchmarks/self_routing_task.py [--items 200] [--models smollm2-135m,...] [--levels 1,2,3,4] [--ops +-*]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from collections import defaultdict
from datetime import date

from tierlink.config.build import catalogue_endpoint
from tierlink.learn.self_routing.evaluate import device_answers
from tierlink.learn.self_routing.policy_model import HELP_SYSTEM, LOCAL_SYSTEM
from tierlink.learn.self_routing.tasks import split_items


def main(items: int, models: list[str], levels: tuple[int, ...], ops: str) -> None:
    _, test = split_items(int(items / 0.3) + 1, seed=1000, levels=levels, ops=ops)
    test = test[:items]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    levels = sorted({i.level for i in test})
    print(f"self_routing_task ({date.today()}, commit {commit}; {len(test)} test items, levels {levels}, "
          f"operations {ops}; live llama.cpp, greedy)\n")
    print("| model | system turn | accuracy | " + " | ".join(f"level {lv}" for lv in levels) + " | asks |")
    print("|---|---|---|" + "---|" * len(levels) + "---|")
    for model in models:
        for label, system in (("offers help tag", HELP_SYSTEM), ("plain", LOCAL_SYSTEM)):
            answers = asyncio.run(device_answers(catalogue_endpoint(model, "--models", system=system), test))
            right: dict[int, list[bool]] = defaultdict(list)
            for item, answer in zip(test, answers, strict=True):
                right[item.level].append(answer.correct)
            overall = sum(a.correct for a in answers) / len(answers)
            asks = sum(a.asked for a in answers) / len(answers)
            cells = " | ".join(f"{sum(right[lv]) / len(right[lv]):.2f}" for lv in levels)
            print(f"| {model} | {label} | {overall:.3f} | {cells} | {asks:.0%} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--levels", default="1,2,3,4", help="operand digits")
    parser.add_argument("--ops", default="+-*")
    args = parser.parse_args()
    main(args.items, args.models.split(","), tuple(int(x) for x in args.levels.split(",")), args.ops)
