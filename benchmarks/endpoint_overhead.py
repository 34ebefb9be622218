"""Decode throughput through tierlink's llamacpp endpoint vs raw llama_cpp.Llama (live).

Both sides use the same loaded model, the same prompt (the Q/A transcript for a base model,
the chat template for an instruct one), stop list and greedy settings; runs are interleaved in
ABBA order in one process so machine noise hits both equally. The ratio endpoint/raw must be at
least 0.95, for every catalogue model.

    python benchmarks/endpoint_overhead.py [--models all] [--reps 8] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from datetime import date

import llama_cpp

from tierlink.core.messages import Request
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.prompt_format import QA_STOPS, qa_transcript
from tierlink.endpoints.registry import endpoint_profiles

PROMPTS = [
    "Write a short story about a robot that learns to paint.",
    "Explain how a bicycle stays upright while moving.",
    "Describe the water cycle to a ten-year-old.",
    "List the steps to bake a loaf of bread.",
]


def raw_run(llm: llama_cpp.Llama, question: str, max_tokens: int, chat: bool) -> tuple[int, float]:
    started = time.perf_counter()
    settings = {"max_tokens": max_tokens, "temperature": 0.0, "repeat_penalty": 1.0, "seed": 0}
    if chat:
        out = llm.create_chat_completion(messages=[{"role": "user", "content": question}], **settings)
    else:
        prompt = qa_transcript(Request.of(question).messages)
        out = llm.create_completion(prompt=prompt, stop=list(QA_STOPS), **settings)
    return out["usage"]["completion_tokens"], time.perf_counter() - started


async def endpoint_run(endpoint: LlamaCppEndpoint, question: str, max_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    completion = await endpoint.complete(Request.of(question, max_tokens=max_tokens))
    return completion.usage.output_tokens, time.perf_counter() - started


async def measure(name: str, reps: int, max_tokens: int) -> tuple[float, float]:
    """Median decode tok/s (raw, endpoint) for one catalogue model."""
    model = model_catalogue()[name]
    endpoint = LlamaCppEndpoint(model.short, endpoint_profiles()[model.profile], "device", model=name)
    llm = endpoint.load()
    chat = endpoint.prompt_format == "chat"
    raw_rates: list[float] = []
    ep_rates: list[float] = []
    await endpoint_run(endpoint, "warm up", 8)
    for rep in range(reps):
        question = PROMPTS[rep % len(PROMPTS)]
        order = ("raw", "ep") if rep % 2 == 0 else ("ep", "raw")
        for side in order:
            if side == "raw":
                tokens, seconds = raw_run(llm, question, max_tokens, chat)
                raw_rates.append(tokens / seconds)
            else:
                tokens, seconds = await endpoint_run(endpoint, question, max_tokens)
                ep_rates.append(tokens / seconds)
    return statistics.median(raw_rates), statistics.median(ep_rates)


async def main(names: list[str], reps: int, max_tokens: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"endpoint_overhead (live, {date.today()}, commit {commit}, {reps} interleaved pairs, "
          f"max_tokens={max_tokens}, default threads)\n")
    print("| model | raw tok/s (median) | endpoint tok/s (median) | ratio | >= 0.95 |")
    print("|---|---|---|---|---|")
    for name in names:
        raw, ep = await measure(name, reps, max_tokens)
        print(f"| {name} | {raw:.1f} | {ep:.1f} | {ep / raw:.3f} | {'PASS' if ep / raw >= 0.95 else 'FAIL'} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="all", help="comma-separated catalogue names, or all")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    names = list(model_catalogue()) if args.models == "all" else args.models.split(",")
    asyncio.run(main(names, args.reps, args.max_tokens))
