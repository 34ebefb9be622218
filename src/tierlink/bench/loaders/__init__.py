"""Registry of the recorded-outcome datasets tierlink can load, each from its raw public files.

Every loader reads the files in the layout of the original release, so the same code reads the
small slice shipped in `tierlink/data/outcomes/<slice_dir>` and a full copy (for instance
`../shared/data/outcomes/<full_dir>`). See `tierlink.bench.datasets.load_dataset`.
"""

from __future__ import annotations

from tierlink.bench.datasets import DatasetSpec
from tierlink.bench.loaders import (
    llmrouter,
    routellm_gsm8k,
    routellm_mmlu,
    routellm_mtbench,
    zeroeval_gsm8k,
)
from tierlink.bench.routerarena import load_routerarena

ROUTELLM_WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
ROUTELLM_STRONG = "gpt-4-1106-preview"
ROUTELLM_LICENCE = "Apache-2.0 (RouteLLM); items: MMLU MIT, GSM8K MIT, MT-Bench Apache-2.0"

DATASETS: dict[str, DatasetSpec] = {
    spec.key: spec
    for spec in (
        DatasetSpec(
            key="routellm-mmlu",
            description="RouteLLM MMLU (57 subjects, 5-shot): GPT-4-1106 vs Mixtral-8x7B "
            "correctness, decontaminated; tokens and cost estimated",
            loader=routellm_mmlu.load,
            slice_dir="routellm",
            full_dir="routellm",
            weak=ROUTELLM_WEAK,
            strong=ROUTELLM_STRONG,
            licence=ROUTELLM_LICENCE,
        ),
        DatasetSpec(
            key="routellm-gsm8k",
            description="RouteLLM GSM8K test (8-shot): GPT-4-1106 vs Mixtral-8x7B correctness "
            "and answers, decontaminated; tokens and cost estimated",
            loader=routellm_gsm8k.load,
            slice_dir="routellm",
            full_dir="routellm",
            weak=ROUTELLM_WEAK,
            strong=ROUTELLM_STRONG,
            licence=ROUTELLM_LICENCE,
        ),
        DatasetSpec(
            key="routellm-mtbench",
            description="RouteLLM MT-Bench: GPT-4 grades (1-10 -> 0..1) of GPT-4-1106 and "
            "Mixtral-8x7B, both turns, decontaminated; tokens and cost estimated",
            loader=routellm_mtbench.load,
            slice_dir="routellm",
            full_dir="routellm",
            weak=ROUTELLM_WEAK,
            strong=ROUTELLM_STRONG,
            licence=ROUTELLM_LICENCE,
        ),
        DatasetSpec(
            key="llmrouter",
            description="LLMRouter DC-Router: 0..1 scores of 9 NVIDIA-NIM models on 14 tasks, "
            "train and test splits (test leaks into train; dedupe before evaluating); "
            "cost estimated",
            loader=llmrouter.load,
            slice_dir="llmrouter",
            full_dir="llmrouter",
            # Weak: the smallest scored model (default_llm.json sizes; the 7B tie broken by file
            # order). Strong: the best one. The largest, llama3-chatqa-1.5-70b, scores far below
            # the 7B models here (0.200 vs 0.512), so a smallest-vs-largest pair is not a routing
            # problem; `--strong llama3-chatqa-1.5-70b` still evaluates it.
            weak="qwen2.5-7b-instruct",
            strong="llama-3.1-nemotron-51b-instruct",
            licence="MIT (LLMRouter); items keep their benchmarks' licences "
            "(GPQA: do not reveal items online)",
        ),
        DatasetSpec(
            key="routerarena",
            description="RouterArena cached results: claude-3-haiku and gemini-2.0-flash on "
            "809 queries with real tokens, cost and gold",
            loader=load_routerarena,
            slice_dir="routerarena",
            full_dir="routerarena",
            weak="claude-3-haiku-20240307",
            strong="gemini-2.0-flash-001",
            licence="Apache-2.0 (RouterArena); items keep their benchmarks' licences",
        ),
        DatasetSpec(
            key="zeroeval-gsm8k",
            description="ZeroEval GSM8K test: zero-shot JSON-CoT correctness of 42 models "
            "(2B to frontier); tokens and cost estimated, cost NaN where no price is sourced",
            loader=zeroeval_gsm8k.load,
            slice_dir="zeroeval_gsm8k",
            full_dir="zeroeval_gsm8k",
            weak="gemma-2-2b-it",
            strong="gpt-4o-2024-08-06",
            licence="Apache-2.0 (ZeroEval); GSM8K MIT",
        ),
    )
}

__all__ = ["DATASETS"]
