"""Build the CommonsenseQA + OpenBookQA slice of LLMRouter shipped in src/tierlink/data/.

Usage: python scripts/make_llmrouter_mcq_slice.py [../shared/data/outcomes/llmrouter]

LLMRouter records 0/1 scores of 9 NIM models per question and keeps the answer options apart
(`choices` in its query files). A device model needs the options, so each prompt here is the
question with its options in RouterArena's multiple-choice wording; the recorded scores are
those the models got on the same question and options. Selection: the first 200 CommonsenseQA
(MIT) and 100 OpenBookQA (Apache-2.0) train questions by sha1 of the text (deterministic).
"""

from __future__ import annotations

import ast
import hashlib
import sys
from pathlib import Path

import pandas as pd

from tierlink.bench.loaders import llmrouter
from tierlink.bench.loaders._common import cost_usd, tokens_from_chars
from tierlink.core.outcomes import write_outcomes

OUT = Path(__file__).resolve().parents[1] / "src" / "tierlink" / "data" / "llmrouter_mcq.csv"
TAKE = {"commonsense_qa": 200, "openbook_qa": 100}
# the cloud side (the best of the 9 on these tasks) and two 7-8B models for comparison
MODELS = ("llama-3.1-nemotron-51b-instruct", "qwen2.5-7b-instruct", "llama-3.1-8b-instruct")
TEMPLATE = ("Please read the following multiple-choice question and choose the correct answer.\n\n"
            "Question: {question}\n\nOptions:\n{options}\n\n"
            "Provide the correct letter choice in \\boxed{{X}}, where X is the correct letter choice. "
            "Keep the explanation or feedback within 3 sentences.")


def options(choices: str) -> str:
    parsed = ast.literal_eval(choices)  # LLMRouter stores a Python dict literal
    return "\n".join(f"{label}. {text}" for label, text in zip(parsed["label"], parsed["text"], strict=True))


def main(root: Path) -> None:
    frame = llmrouter.load(root)
    queries = pd.read_json(root / llmrouter.QUERIES.format(split="train"), lines=True, dtype=False)
    choices = queries.drop_duplicates("query").set_index("query")["choices"]
    parts = []
    for task, count in TAKE.items():
        rows = frame[(frame["task"] == task) & (frame["split"] == "train") & frame["model"].isin(MODELS)]
        ids = sorted(rows["prompt"].unique(), key=lambda text: hashlib.sha1(text.encode()).hexdigest())[:count]
        parts.append(rows[rows["prompt"].isin(ids)])
    out = pd.concat(parts, ignore_index=True)
    out["prompt"] = [TEMPLATE.format(question=q, options=options(choices[q])) for q in out["prompt"]]
    # token counts and dollars re-estimated for the prompt with its options (LLMRouter logs none)
    out["input_tokens"] = tokens_from_chars(out["prompt"].str.len())
    out["cost_usd"] = cost_usd(out["input_tokens"], out["output_tokens"], out["model"].map(llmrouter.model_prices(root)))
    out["split"] = [("test" if int(hashlib.sha1(p.encode()).hexdigest(), 16) % 10 < 3 else "train")
                    for p in out["prompt_id"]]
    columns = ["prompt_id", "prompt", "task", "model", "score", "cost_usd", "input_tokens", "output_tokens", "gold", "split"]
    write_outcomes(out[columns].sort_values(["prompt_id", "model"]), OUT)
    print(f"wrote {OUT}: {out['prompt_id'].nunique()} prompts x {out['model'].nunique()} models")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/outcomes/llmrouter"))
