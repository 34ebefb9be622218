"""Decode throughput through tierlink's llamacpp endpoint vs raw llama_cpp.Llama (live).

Both sides use the same loaded model, the same prompt string, stop list and greedy settings;
runs are interleaved in ABBA order in one process so machine noise hits both equally. The
ratio endpoint/raw must be at least 0.95.

    python benchmarks/endpoint_overhead.py [--reps 8] [--max-tokens 128]
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
from tierlink.endpoints.prompt_format import QA_STOPS, qa_transcript
from tierlink.endpoints.registry import endpoint_profiles

PROMPTS = [
    "Write a short story about a robot that learns to paint.",
    "Explain how a bicycle stays upright while moving.",
    "Describe the water cycle to a ten-year-old.",
    "List the steps to bake a loaf of bread.",
]


def raw_run(llm: llama_cpp.Llama, prompt: str, max_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    out = llm.create_completion(
        prompt=prompt, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0,
        stop=list(QA_STOPS), seed=0,
    )
    return out["usage"]["completion_tokens"], time.perf_counter() - started


async def endpoint_run(endpoint: LlamaCppEndpoint, question: str, max_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    completion = await endpoint.complete(Request.of(question, max_tokens=max_tokens))
    return completion.usage.output_tokens, time.perf_counter() - started


async def main(reps: int, max_tokens: int) -> None:
    endpoint = LlamaCppEndpoint("gemma", endpoint_profiles()["laptop-cpu/gemma3-270m-q4"], "device")
    llm = endpoint.load()
    raw_rates: list[float] = []
    ep_rates: list[float] = []
    await endpoint_run(endpoint, "warm up", 8)
    for rep in range(reps):
        question = PROMPTS[rep % len(PROMPTS)]
        prompt = qa_transcript(Request.of(question).messages)
        order = ("raw", "ep") if rep % 2 == 0 else ("ep", "raw")
        for side in order:
            if side == "raw":
                tokens, seconds = raw_run(llm, prompt, max_tokens)
                raw_rates.append(tokens / seconds)
            else:
                tokens, seconds = await endpoint_run(endpoint, question, max_tokens)
                ep_rates.append(tokens / seconds)
    raw_median, ep_median = statistics.median(raw_rates), statistics.median(ep_rates)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"endpoint_overhead (live, {date.today()}, commit {commit}, {reps} interleaved pairs, max_tokens={max_tokens})")
    print(f"  raw llama_cpp.Llama : median {raw_median:7.1f} tok/s  (min {min(raw_rates):.1f}, max {max(raw_rates):.1f})")
    print(f"  tierlink endpoint   : median {ep_median:7.1f} tok/s  (min {min(ep_rates):.1f}, max {max(ep_rates):.1f})")
    ratio = ep_median / raw_median
    print(f"  ratio endpoint/raw  : {ratio:.3f}  ({'PASS' if ratio >= 0.95 else 'FAIL'}: must be >= 0.95)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.max_tokens))
