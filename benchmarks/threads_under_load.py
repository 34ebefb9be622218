"""llama.cpp threads under load: decode and prefill speed at n_threads 1 and 2, idle and shared (live).

The cores of a device are rarely the model's alone: the gateway, a second model or the test
suite run beside it. For each catalogue model this measures, in one process and interleaved,
prefill and decode tokens/s at 1 and 2 threads (a) on an otherwise idle machine, (b) with one
busy-looping process beside it (a CPU hog) and (c) with a second llama.cpp model decoding in
another process. The default `n_threads` of `LlamaCppEndpoint` is chosen from these figures.

    python benchmarks/threads_under_load.py [--models gemma-3-270m,qwen2.5-coder-1.5b] [--reps 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date

import llama_cpp

from tierlink.endpoints.llamacpp_host import safe_weight_buffers
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.model_files import gguf_path

PROMPT = ("Explain, step by step and in plain words, how a refrigerator moves heat from its cold inside "
          "to the warmer room around it, and why it needs electricity to do so. ") * 3
HOG = "while True: pass"
SECOND_MODEL = ("import llama_cpp, sys\n"
                "from tierlink.endpoints.llamacpp_host import safe_weight_buffers\n"
                "with safe_weight_buffers(): llm = llama_cpp.Llama(model_path=sys.argv[1], n_threads=1, verbose=False)\n"
                "while True: llm.create_completion('Tell me a long story about the sea.', max_tokens=256)\n")


@contextlib.contextmanager
def load(kind: str, gemma_path: str) -> Iterator[None]:
    """Run the named background load for the duration (none, a CPU hog, or a second model)."""
    if kind == "idle":
        yield
        return
    args = ["-c", HOG] if kind == "cpu hog" else ["-c", SECOND_MODEL, gemma_path]
    proc = subprocess.Popen([sys.executable, *args], stderr=subprocess.DEVNULL)
    time.sleep(3.0 if kind != "cpu hog" else 0.5)  # let the second model load and start decoding
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def speeds(llm: llama_cpp.Llama, max_tokens: int) -> tuple[float, float]:
    """(prefill tok/s, decode tok/s) of one greedy completion, from llama.cpp's perf counters."""
    llm.reset()  # no prefix reuse between measurements
    llama_cpp.llama_perf_context_reset(llm.ctx)
    llm.create_completion(PROMPT, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, seed=0)
    perf = llama_cpp.llama_perf_context(llm.ctx)
    return perf.n_p_eval / (perf.t_p_eval_ms / 1000), perf.n_eval / (perf.t_eval_ms / 1000)


def main(names: list[str], reps: int, max_tokens: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    catalogue = model_catalogue()
    gemma = str(gguf_path(catalogue["gemma-3-270m"]))
    print(f"threads_under_load (live, {date.today()}, commit {commit}, {os.cpu_count()} cores, "
          f"{reps} reps, median; prompt {len(PROMPT)} chars, {max_tokens} tokens decoded)\n")
    print("| model | load | prefill tok/s, 1 thread | 2 threads | decode tok/s, 1 thread | 2 threads | decode 2/1 |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        path = str(gguf_path(catalogue[name]))
        with safe_weight_buffers():
            models = {threads: llama_cpp.Llama(model_path=path, n_threads=threads, n_ctx=1024, verbose=False)
                      for threads in (1, 2)}
        for kind in ("idle", "cpu hog", "second model"):
            got: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
            with load(kind, gemma):
                for rep in range(reps):
                    for threads in ((1, 2) if rep % 2 == 0 else (2, 1)):
                        got[threads].append(speeds(models[threads], max_tokens))
            pre = {t: statistics.median(p for p, _ in got[t]) for t in got}
            dec = {t: statistics.median(d for _, d in got[t]) for t in got}
            print(f"| {name} | {kind} | {pre[1]:.0f} | {pre[2]:.0f} | {dec[1]:.1f} | {dec[2]:.1f} | {dec[2] / dec[1]:.2f} |",
                  flush=True)
        del models


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="gemma-3-270m,qwen2.5-coder-1.5b")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    main(args.models.split(","), args.reps, args.max_tokens)
