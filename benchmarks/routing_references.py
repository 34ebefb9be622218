"""Random and oracle references (APGR, CPT(50%)) on the full recorded-outcome sets (replay).

    python benchmarks/routing_references.py --data-root ../shared/data/outcomes

Prints a markdown table for benchmarks/README.md. Quality is replay (recorded outcomes of real
models); the test split is a hash of the prompt id (30%), or LLMRouter's own test split, with
training prompts that repeat a test prompt removed. `prompt-length` is the zero-training
heuristic baseline, for scale.
"""

from __future__ import annotations

import argparse
import subprocess
from datetime import date
from pathlib import Path

from rich.progress import track

from tierlink.bench.baselines import prompt_length
from tierlink.bench.datasets import dataset_spec, load_from
from tierlink.bench.evaluate import evaluate, prepare

RUNS = [
    # (dataset, weak, strong, use the source's split)
    ("routellm-mmlu", None, None, False),
    ("routellm-gsm8k", None, None, False),
    ("routellm-mtbench", None, None, False),
    ("zeroeval-gsm8k", "gemma-2-2b-it", "gpt-4o-2024-08-06", False),
    ("llmrouter", "qwen2.5-7b-instruct", "llama3-chatqa-1.5-70b", True),  # smallest vs largest
    ("llmrouter", "qwen2.5-7b-instruct", "llama-3.1-nemotron-51b-instruct", True),  # smallest vs best
    ("routerarena", None, None, False),
]


def main(data_root: Path | None) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    source = "full sets under " + str(data_root) if data_root else "slices shipped with tierlink"
    print(f"routing references ({date.today()}, commit {commit}, {source}; quality: replay)\n")
    print("| data set | weak → strong | test prompts | leaks removed | weak / strong quality | random APGR | random CPT(50%) | oracle APGR | oracle CPT(50%) | prompt-length APGR |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, weak, strong, source_split in track(RUNS, description="evaluating", transient=True):
        spec = dataset_spec(key)
        frame = load_from(key, data_root)
        prepared = prepare(key, frame, weak or spec.weak, strong or spec.strong, 0.3, 0, source_split)
        result = evaluate(prepared, {"prompt-length": prompt_length(prepared.pair, 0)}, by_task=False).overall
        r, o, p = result["random"], result["oracle"], result["prompt-length"]
        print(
            f"| {key} | {prepared.pair.weak} → {prepared.pair.strong} | {r.prompts} | {prepared.split.leaked_removed} | "
            f"{r.weak_quality:.3f} / {r.strong_quality:.3f} | {r.apgr:.3f} | {100 * r.cpt50:.1f}% | "
            f"{o.apgr:.3f} | {100 * o.cpt50:.1f}% | {p.apgr:.3f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", type=Path, default=None, help="folder with the full sets; default: shipped slices")
    main(parser.parse_args().data_root)
