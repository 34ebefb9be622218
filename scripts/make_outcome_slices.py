"""Rebuild the raw-data slices shipped in src/tierlink/data/outcomes/ (and their NOTICE.md).

Usage: python scripts/make_outcome_slices.py [SOURCE_ROOT]
SOURCE_ROOT defaults to ../shared/data/outcomes and must hold routellm/, llmrouter/,
routerarena/ and zeroeval_gsm8k/ as described by their SOURCE.txt. Each slice keeps the original
relative layout and file formats, so the loaders in tierlink.bench.loaders read a slice and a
full copy alike. Selection is deterministic (by sha1 of the item text or by row position) and
each slice keeps at least one item the loader must drop (a contaminated prompt, a train/test
leak) so tests of that behaviour have something to catch. Small files are copied whole.
Licence care: LLMRouter's GPQA items (authors ask that they not be revealed online) and
RouterArena queries from benchmarks with unclear terms are left out.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "tierlink" / "data" / "outcomes"
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "outcomes"

MMLU_EVERY = 56  # keep an MMLU question when sha1(text) % 56 == 0 (~250 of 14,042)
GSM8K_ROWS = 200  # first rows of gsm8k_responses.csv (holds 6 contaminated prompts)
MTBENCH_PER_CATEGORY = 4  # clean questions per MT-Bench category, plus one contaminated
LLMROUTER_TRAIN_EVERY = 40  # sha1 % 40 == 0 -> ~130 of 5,608 train questions
LLMROUTER_TEST_EVERY = 5  # sha1 % 5 == 0 -> ~90 of 500 test questions
LLMROUTER_LEAKS = 12  # test questions also in train, kept in both splits
ROUTERARENA_QUERIES = 150
ZEROEVAL_EVERY = 6  # every 6th question (~220 of 1,319)
# RouterArena sources with known permissive licences (as in scripts/make_data_slice.py),
# plus GSM8K and MATH (MIT).
ROUTERARENA_PREFIXES = (
    "MMLUPro_",
    "MMLU_",
    "OpenTDB_",
    "MedMCQA",
    "Ethics_",
    "MathQA",
    "SocialiQA",
    "GSM8K",
    "MATH_",
)


def main(source: Path) -> None:
    for name in ("routellm", "llmrouter", "routerarena", "zeroeval_gsm8k"):
        if not (source / name / "SOURCE.txt").is_file():
            sys.exit(
                f"{source / name / 'SOURCE.txt'} not found: "
                "pass the folder holding the raw datasets"
            )
    if OUT.exists():
        shutil.rmtree(OUT)
    notes = [
        routellm(source / "routellm", OUT / "routellm"),
        llmrouter(source / "llmrouter", OUT / "llmrouter"),
        routerarena(source / "routerarena", OUT / "routerarena"),
        zeroeval(source / "zeroeval_gsm8k", OUT / "zeroeval_gsm8k"),
    ]
    (OUT / "NOTICE.md").write_text(_notice(source, notes), encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


# --- RouteLLM -------------------------------------------------------------------------------


def routellm(src: Path, dst: Path) -> dict[str, Any]:
    evals = "routellm/evals"
    for name in ("mmlu", "gsm8k", "mt_bench"):
        _copy(src, dst, f"{evals}/{name}/contaminated_prompts.jsonl")

    mmlu = pd.read_csv(src / "mmlu_all_subjects_gpt4_vs_mixtral.csv")
    flagged = set(_jsonl(src / f"{evals}/mmlu/contaminated_prompts.jsonl", "eval_prompt"))
    first_flagged = next(p for p in mmlu["prompt"] if p in flagged)
    keep = mmlu["prompt"].map(lambda p: _bucket(p, MMLU_EVERY) == 0) | (
        mmlu["prompt"] == first_flagged
    )
    _write_csv(mmlu[keep], dst / "mmlu_all_subjects_gpt4_vs_mixtral.csv")

    gsm = pd.read_csv(src / f"{evals}/gsm8k/gsm8k_responses.csv", keep_default_na=False).head(
        GSM8K_ROWS
    )
    _write_csv(gsm, dst / f"{evals}/gsm8k/gsm8k_responses.csv")
    questions = set(gsm["prompt"])
    _filter_jsonl(src, dst, f"{evals}/gsm8k/test.jsonl", lambda r: r["question"] in questions)

    _copy(src, dst, f"{evals}/mt_bench/question.jsonl")
    mt_flagged = set(_jsonl(src / f"{evals}/mt_bench/contaminated_prompts.jsonl", "eval_prompt"))
    chosen: list[int] = []
    per_category: dict[str, int] = {}
    first_contaminated = None
    for q in _records(src / f"{evals}/mt_bench/question.jsonl"):
        if set(q["turns"]) & mt_flagged:
            first_contaminated = first_contaminated or int(q["question_id"])
        elif per_category.get(q["category"], 0) < MTBENCH_PER_CATEGORY:
            per_category[q["category"]] = per_category.get(q["category"], 0) + 1
            chosen.append(int(q["question_id"]))
    assert first_contaminated is not None
    kept_ids = {*chosen, first_contaminated}
    _filter_jsonl(
        src, dst, f"{evals}/mt_bench/judgements.jsonl", lambda r: int(r["question_id"]) in kept_ids
    )
    return {
        "dir": "routellm",
        "selection": (
            f"MMLU: questions with sha1(text) % {MMLU_EVERY} == 0 plus the first contaminated one "
            f"({int(keep.sum())} rows); GSM8K: first {GSM8K_ROWS} rows of gsm8k_responses.csv and "
            f"their test.jsonl lines; MT-Bench: question.jsonl whole, judgements of the first "
            f"{MTBENCH_PER_CATEGORY} clean questions per category plus contaminated question "
            f"{first_contaminated} (ids {sorted(kept_ids)}); "
            "contaminated_prompts.jsonl files whole."
        ),
    }


# --- LLMRouter ------------------------------------------------------------------------------


def llmrouter(src: Path, dst: Path) -> dict[str, Any]:
    scores = "data/dcrouter_preprocessed/{}.json"
    queries = "data/example_data/query_data/default_query_{}.jsonl"
    _copy(src, dst, "data/example_data/llm_candidates/default_llm.json")
    items = {
        s: json.loads((src / scores.format(s)).read_text(encoding="utf-8"))
        for s in ("train", "test")
    }
    gpqa = {
        r["query"]
        for s in ("train", "test")
        for r in _records(src / queries.format(s))
        if r["task_name"] == "gpqa"
    }
    train_text = {i["question"] for i in items["train"]}
    clean = {s: [i for i in items[s] if i["question"] not in gpqa] for s in items}
    leaks = [i["question"] for i in clean["test"] if i["question"] in train_text][:LLMROUTER_LEAKS]
    picked = {
        "test": {
            i["question"]
            for i in clean["test"]
            if _bucket(i["question"], LLMROUTER_TEST_EVERY) == 0
        }
        | set(leaks),
        "train": {
            i["question"]
            for i in clean["train"]
            if _bucket(i["question"], LLMROUTER_TRAIN_EVERY) == 0
        }
        | set(leaks),
    }
    for split in ("train", "test"):
        kept = [i for i in clean[split] if i["question"] in picked[split]]
        target = dst / scores.format(split)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(kept, indent=4, ensure_ascii=False), encoding="utf-8")
        _filter_jsonl(src, dst, queries.format(split), _field_in("query", picked[split] - gpqa))
    return {
        "dir": "llmrouter",
        "selection": (
            f"dcrouter test questions with sha1(text) % {LLMROUTER_TEST_EVERY} == 0 and train "
            f"questions with sha1(text) % {LLMROUTER_TRAIN_EVERY} == 0, plus the first "
            f"{len(leaks)} test questions that also "
            f"occur in train (kept in both files, so the train/test leak is present); the matching "
            f"default_query_* lines; default_llm.json whole. Every GPQA item is excluded "
            f"({len(picked['train'])} train / {len(picked['test'])} test questions)."
        ),
    }


# --- RouterArena ----------------------------------------------------------------------------


def routerarena(src: Path, dst: Path) -> dict[str, Any]:
    _copy(src, dst, "model_cost/cost.json")
    files = sorted((src / "cached_results").glob("*.jsonl"))
    answered = [{r["global_index"] for r in _records(f) if r.get("success", True)} for f in files]
    common = set.intersection(*answered)
    eligible = sorted(
        (i for i in common if i.startswith(ROUTERARENA_PREFIXES)), key=lambda i: _sha(i)
    )
    chosen = set(eligible[:ROUTERARENA_QUERIES])
    for f in files:
        _filter_jsonl(src, dst, f"cached_results/{f.name}", lambda r: r["global_index"] in chosen)
    return {
        "dir": "routerarena",
        "selection": (
            f"{len(chosen)} queries answered by both models, from permissively licensed sources "
            f"({', '.join(p.rstrip('_') for p in ROUTERARENA_PREFIXES)}), "
            "the first by sha1(global_index); ArcMMLU, GeoBench, MusicTheoryBench and other "
            "sources with unclear terms are left out. "
            "model_cost/cost.json whole."
        ),
        "items": (
            "MMLU-Pro (MIT), MMLU (MIT), Open Trivia DB (CC BY-SA 4.0), MedMCQA (MIT), "
            "ETHICS (MIT), "
            "MathQA (Apache-2.0), Social IQa (CC BY 4.0), GSM8K (MIT), MATH (MIT)"
        ),
    }


# --- ZeroEval -------------------------------------------------------------------------------


def zeroeval(src: Path, dst: Path) -> dict[str, Any]:
    questions = pd.read_csv(src / "questions.csv", dtype=str, keep_default_na=False)
    rows = questions.index[questions.index % ZEROEVAL_EVERY == 0]
    ids = set(questions.loc[rows, "session_id"])
    _write_csv(questions.loc[rows], dst / "questions.csv")
    for name in ("correct_matrix.csv", "output_chars_matrix.csv"):
        matrix = pd.read_csv(src / name, dtype={"session_id": str})
        _write_csv(matrix[matrix["session_id"].isin(ids)], dst / name)
    return {
        "dir": "zeroeval_gsm8k",
        "selection": (
            f"every {ZEROEVAL_EVERY}th question ({len(ids)} of {len(questions)}) "
            "in all three files."
        ),
    }


# --- helpers --------------------------------------------------------------------------------


def _sha(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


def _bucket(text: str, every: int) -> int:
    return _sha(text) % every


def _records(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _jsonl(path: Path, field: str) -> list[str]:
    return [str(r[field]) for r in _records(path)]


def _filter_jsonl(
    src: Path, dst: Path, relative: str, keep: Callable[[dict[str, Any]], bool]
) -> None:
    """Copy the lines of a JSONL file that `keep` accepts, byte for byte."""
    target = dst / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        (src / relative).open(encoding="utf-8") as handle,
        target.open("w", encoding="utf-8") as out,
    ):
        for line in handle:
            if line.strip() and keep(json.loads(line)):
                out.write(line)


def _field_in(field: str, wanted: set[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda record: record[field] in wanted


def _copy(src: Path, dst: Path, relative: str) -> None:
    target = dst / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / relative, target)


def _write_csv(frame: pd.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)


def _source_fields(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("repo", "commit", "license") and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def _notice(source: Path, notes: list[dict[str, Any]]) -> str:
    lines = [
        "# Recorded-outcome slices shipped with tierlink",
        "",
        "Small subsets of public router-evaluation releases, kept in each release's original file",
        "layout so that `tierlink.bench.loaders` reads them exactly like a full copy. Rebuild with",
        "`python scripts/make_outcome_slices.py PATH/TO/outcomes` (deterministic).",
        "The underlying benchmark items keep their own licences, listed per slice.",
        "",
    ]
    for note in notes:
        fields = _source_fields(source / note["dir"] / "SOURCE.txt")
        folder = OUT / note["dir"]
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        lines += [
            f"## {note['dir']}/",
            "",
            f"- Source: {fields.get('repo', '?')}",
            f"- Commit: {fields.get('commit', '?')}",
            f"- Licence: {fields.get('license', '?')}",
            *([f"- Item licences: {note['items']}"] if "items" in note else []),
            f"- Selection: {note['selection']}",
            "- Files: " + ", ".join(f"`{f}`" for f in files),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
