"""Loaders of recorded router datasets: shipped slices (always) and full releases (when present).

The slices live in tierlink/data/outcomes/ in each release's original layout; the full copies
are looked for in ../shared/data/outcomes (or $TIERLINK_OUTCOMES_FULL) and those tests skip
when they are absent.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from tierlink.bench.datasets import dataset_spec, load_dataset, shipped_root
from tierlink.bench.loaders import (
    DATASETS,
    llmrouter,
    routellm_gsm8k,
    routellm_mmlu,
    zeroeval_gsm8k,
)
from tierlink.bench.loaders.prices import ROUTELLM, ZEROEVAL
from tierlink.core.errors import DataError
from tierlink.core.outcomes import REQUIRED, validate_outcomes

FULL = Path(
    os.environ.get(
        "TIERLINK_OUTCOMES_FULL",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "outcomes",
    )
)
needs_full = pytest.mark.skipif(not FULL.is_dir(), reason=f"full raw datasets not found at {FULL}")
ESTIMATED = "input_tokens,output_tokens,cost_usd"
KEYS = sorted(DATASETS)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {key: load_dataset(key) for key in KEYS}


def _raw(key: str, relative: str) -> Path:
    return shipped_root(DATASETS[key]) / relative


def _jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


# --- every dataset, shipped slice ------------------------------------------------------------


def test_registry_has_the_six_datasets() -> None:
    assert set(DATASETS) == {
        "routellm-mmlu",
        "routellm-gsm8k",
        "routellm-mtbench",
        "llmrouter",
        "routerarena",
        "zeroeval-gsm8k",
    }
    for key, spec in DATASETS.items():
        assert spec.key == key and spec.description and spec.licence
        assert dataset_spec(key) is spec


@pytest.mark.parametrize("key", KEYS)
def test_slice_folder_resolves_through_importlib_resources(key: str) -> None:
    spec = DATASETS[key]
    folder = files("tierlink.data").joinpath("outcomes", spec.slice_dir)
    assert folder.is_dir()
    assert Path(str(folder)) == shipped_root(spec)


def test_slices_are_small_and_have_a_notice() -> None:
    root = Path(str(files("tierlink.data").joinpath("outcomes")))
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 3_000_000
    notice = (root / "NOTICE.md").read_text(encoding="utf-8")
    for spec in DATASETS.values():
        assert f"## {spec.slice_dir}/" in notice
    assert notice.count("- Commit: ") == 4 and notice.count("- Licence: ") == 4


@pytest.mark.parametrize("key", KEYS)
def test_slice_loads_as_a_valid_outcome_table(key: str, tables: dict[str, pd.DataFrame]) -> None:
    frame, spec = tables[key], DATASETS[key]
    assert set(REQUIRED) <= set(frame.columns)
    assert {"cost_usd", "input_tokens", "output_tokens", "split"} <= set(frame.columns)
    validate_outcomes(frame, key)
    assert {spec.weak, spec.strong} <= set(frame["model"])
    assert frame["score"].between(0, 1).all()
    prompts = frame["prompt_id"].nunique()
    assert 60 <= prompts <= 300, prompts
    weak = frame[frame["model"] == spec.weak]["score"].mean()
    assert 0 < weak < 1


@pytest.mark.parametrize("key", [k for k in KEYS if k != "routerarena"])
def test_estimated_columns_are_marked(key: str, tables: dict[str, pd.DataFrame]) -> None:
    frame = tables[key]
    assert (frame["estimated"] == ESTIMATED).all()
    for column in ESTIMATED.split(","):
        assert frame[column].notna().any()
        assert (frame[column].dropna() >= 0).all()


def test_routerarena_costs_are_recorded_not_estimated(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["routerarena"]
    assert "estimated" not in frame.columns
    assert frame["cost_usd"].notna().all() and frame["input_tokens"].notna().all()
    assert set(frame["model"]) == {"claude-3-haiku-20240307", "gemini-2.0-flash-001"}


def test_missing_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        routellm_mmlu.load(tmp_path)
    assert "mmlu_all_subjects_gpt4_vs_mixtral.csv" in str(caught.value)
    assert "Fix:" in str(caught.value)
    for key in KEYS:
        with pytest.raises(DataError):
            load_dataset(key, root=tmp_path)


def test_loaders_read_a_copy_anywhere(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(shipped_root(DATASETS["routellm-gsm8k"]), copy)
    moved = load_dataset("routellm-gsm8k", root=copy)
    pd.testing.assert_frame_equal(moved, load_dataset("routellm-gsm8k"))


# --- RouteLLM ---------------------------------------------------------------------------------


def test_mmlu_drops_contaminated_prompts_present_in_the_raw_slice(
    tables: dict[str, pd.DataFrame],
) -> None:
    raw = pd.read_csv(_raw("routellm-mmlu", routellm_mmlu.MMLU_CSV))
    flagged = {r["eval_prompt"] for r in _jsonl(_raw("routellm-mmlu", routellm_mmlu.CONTAMINATED))}
    present = flagged & set(raw["prompt"])
    assert present, "the slice must hold a contaminated prompt for this test to mean anything"
    frame = tables["routellm-mmlu"]
    assert not present & set(frame["prompt"])
    assert frame["prompt_id"].nunique() == raw["prompt"].isin(flagged).__invert__().sum()


def test_mmlu_ids_tasks_and_estimates(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["routellm-mmlu"]
    assert frame["prompt_id"].str.fullmatch(r"mmlu-[0-9a-f]{12}(-\d+)?").all()
    assert frame["task"].str.startswith("mmlu/").all()
    assert (frame["output_tokens"] == 1).all()
    row = frame.iloc[0]
    assert row["input_tokens"] == math.ceil(len(row["prompt"]) / 4)
    price = ROUTELLM[row["model"]]
    assert row["cost_usd"] == pytest.approx(
        (row["input_tokens"] * price.input_per_m + price.output_per_m) / 1e6
    )


def test_gsm8k_drops_contaminated_eval_prompts(tables: dict[str, pd.DataFrame]) -> None:
    raw = pd.read_csv(_raw("routellm-gsm8k", routellm_gsm8k.RESPONSES))
    janet = "Janet’s ducks lay 16 eggs per day."  # eval_idx 0 of gsm8k/contaminated_prompts.jsonl
    assert raw["prompt"].str.startswith(janet).any()
    frame = tables["routellm-gsm8k"]
    assert not frame["prompt"].str.startswith(janet).any()
    flagged = {
        r["eval_prompt"] for r in _jsonl(_raw("routellm-gsm8k", routellm_gsm8k.CONTAMINATED))
    }
    assert len(flagged & set(raw["prompt"])) >= 3
    assert not flagged & set(frame["prompt"])


def test_gsm8k_gold_is_the_number_after_the_hashes(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["routellm-gsm8k"]
    assert frame["gold"].str.fullmatch(r"-?\d+(\.\d+)?").all()
    sprints = frame[
        frame["prompt"].str.startswith("James decides to run 3 sprints 3 times a week.")
    ]
    assert set(sprints["gold"]) == {"540"}
    assert len(sprints) == 2 and sprints["response"].str.len().gt(0).all()
    test = pd.read_json(_raw("routellm-gsm8k", routellm_gsm8k.TEST), lines=True)
    expected = dict(
        zip(
            test["question"],
            test["answer"].str.split("#### ").str[-1].str.replace(",", "").str.strip(),
            strict=True,
        )
    )
    assert (frame["gold"] == frame["prompt"].map(expected)).all()
    assert (frame["output_tokens"] == (frame["response"].str.len() / 4).apply(math.ceil)).all()


def test_mtbench_scores_turns_and_contamination(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["routellm-mtbench"]
    judged = pd.DataFrame(
        _jsonl(_raw("routellm-mtbench", "routellm/evals/mt_bench/judgements.jsonl"))
    )
    assert (
        judged["question_id"].astype(int) == 81
    ).any()  # contaminated (eval_idx 0) and in the raw slice
    assert not frame["prompt_id"].str.startswith("mtbench-81-").any()
    assert set(frame["turn"]) == {1, 2}
    judged["prompt_id"] = (
        "mtbench-" + judged["question_id"].astype(str) + "-t" + judged["turn"].astype(str)
    )
    grades = judged.set_index(["prompt_id", "model"])["score"].astype(float)
    merged = frame.join(grades.rename("grade"), on=["prompt_id", "model"])
    assert ((merged["grade"] - 1) / 9 - merged["score"]).abs().max() < 1e-12
    questions = {
        int(q["question_id"]): q
        for q in _jsonl(_raw("routellm-mtbench", "routellm/evals/mt_bench/question.jsonl"))
    }
    for row in frame.itertuples():
        qid = int(row.prompt_id.split("-")[1])
        turns = questions[qid]["turns"]
        assert row.task == questions[qid]["category"]
        assert row.prompt.startswith(turns[0])
        assert (turns[1] in row.prompt) == (row.turn == 2)
    assert frame["response"].notna().all()
    second = frame[frame["turn"] == 2]
    asked = second["prompt"].str.len() - len("\n\nFollow-up: ")
    assert (second["input_tokens"] * 4 >= asked).all()
    assert (
        second["input_tokens"] * 4 > asked + 400
    ).mean() > 0.8  # counts the model's turn-1 answer


# --- LLMRouter --------------------------------------------------------------------------------


def test_llmrouter_keeps_both_splits_and_the_leak(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["llmrouter"]
    assert set(frame["split"]) == {"train", "test"}
    assert len(frame["model"].unique()) == 9
    per_split = frame.groupby("split")["prompt"].apply(set)
    leaked = per_split["train"] & per_split["test"]
    assert leaked, "the slice keeps test questions that also occur in train"
    ids = frame[frame["prompt"].isin(leaked)].groupby("prompt")["prompt_id"].nunique()
    assert (ids == 2).all()
    assert frame["prompt_id"].str.fullmatch(r"llmrouter-(train|test)-[0-9a-f]{12}").all()
    assert not frame.duplicated(["prompt_id", "model"]).any()


def test_llmrouter_slice_has_no_gpqa_and_joins_task_and_gold(
    tables: dict[str, pd.DataFrame],
) -> None:
    frame = tables["llmrouter"]
    assert "gpqa" not in set(frame["task"])
    root = shipped_root(DATASETS["llmrouter"])
    for split in ("train", "test"):
        queries = _jsonl(root / llmrouter.QUERIES.format(split=split))
        assert all(q["task_name"] != "gpqa" for q in queries)
        truth = {q["query"]: q["ground_truth"] for q in queries}
        part = frame[frame["split"] == split]
        assert (part["gold"] == part["prompt"].map(truth)).all()
    assert frame["gold"].notna().all()


def test_llmrouter_defaults_are_smallest_and_best_models(
    tables: dict[str, pd.DataFrame],
) -> None:
    spec = DATASETS["llmrouter"]
    sizes = llmrouter.model_sizes(shipped_root(spec))
    scored = {m: sizes[m] for m in tables["llmrouter"]["model"].unique()}
    assert scored[spec.weak] == min(scored.values())
    means = tables["llmrouter"].groupby("model")["score"].mean()
    assert means[spec.strong] == means.max() > means[spec.weak]
    prices = llmrouter.model_prices(shipped_root(spec))
    row = tables["llmrouter"].iloc[0]
    price = prices[row["model"]]
    expected = (
        row["input_tokens"] * price.input_per_m + row["output_tokens"] * price.output_per_m
    ) / 1e6
    assert row["cost_usd"] == pytest.approx(expected)


# --- ZeroEval ---------------------------------------------------------------------------------


def test_zeroeval_rows_gold_and_estimates(tables: dict[str, pd.DataFrame]) -> None:
    frame = tables["zeroeval-gsm8k"]
    assert frame["model"].nunique() == 42
    counts = frame.groupby("model").size()
    assert (
        counts["gemini-1.5-flash-exp-0827"] < counts["gpt-4o-2024-08-06"]
    )  # empty cells are skipped
    assert frame["gold"].str.fullmatch(r"-?\d+(\.\d+)?").all()
    row = frame.iloc[0]
    assert row["input_tokens"] == math.ceil(
        (len(row["prompt"]) + zeroeval_gsm8k.TEMPLATE_CHARS) / 4
    )
    priced = frame["model"].isin(ZEROEVAL)
    assert frame.loc[priced, "cost_usd"].gt(0).all()
    assert frame.loc[~priced, "cost_usd"].isna().all()
    assert len(ZEROEVAL) >= 25 and set(ZEROEVAL) <= set(frame["model"])


# --- full releases (skipped when ../shared/data/outcomes is absent) ----------------------------


@pytest.fixture(scope="module")
def full() -> dict[str, pd.DataFrame]:
    return {key: spec.loader(FULL / spec.full_dir) for key, spec in DATASETS.items()}


def _accuracy(frame: pd.DataFrame, model: str) -> float:
    return float(frame.loc[frame["model"] == model, "score"].mean())


@needs_full
def test_full_routellm_mmlu_matches_routellm(full: dict[str, pd.DataFrame]) -> None:
    # RouteLLM's MMLU benchmark (routellm/evals/benchmarks.py, class MMLU) drops the 5 prompts of
    # mmlu/contaminated_prompts.jsonl ("Remaining 14037/14042 prompts") and scores a model as the
    # share of True cells (get_model_accuracy). The paper reports these only as the end points of
    # its MMLU plots, so the values are pinned from the release:
    # GPT-4-1106 80.59 %, Mixtral 68.09 %.
    frame = full["routellm-mmlu"]
    assert frame["prompt_id"].nunique() == 14_037
    assert _accuracy(frame, "gpt-4-1106-preview") == pytest.approx(0.80587, abs=5e-5)
    assert _accuracy(frame, "mistralai/Mixtral-8x7B-Instruct-v0.1") == pytest.approx(
        0.68091, abs=5e-5
    )


@needs_full
def test_full_routellm_gsm8k_matches_routellm(full: dict[str, pd.DataFrame]) -> None:
    # benchmarks.py GSM8K: "1307/1319 questions for GSM8K after decontamination"; pinned accuracies.
    frame = full["routellm-gsm8k"]
    assert frame["prompt_id"].nunique() == 1_307
    assert _accuracy(frame, "gpt-4-1106-preview") == pytest.approx(0.85769, abs=5e-5)
    assert _accuracy(frame, "mistralai/Mixtral-8x7B-Instruct-v0.1") == pytest.approx(
        0.63734, abs=5e-5
    )


@needs_full
def test_full_routellm_mtbench_matches_routellm(full: dict[str, pd.DataFrame]) -> None:
    # benchmarks.py MTBench: 80 - 8 contaminated = 72 questions; mean GPT-4 grade per model.
    frame = full["routellm-mtbench"]
    assert frame["prompt_id"].str.rsplit("-", n=1).str[0].nunique() == 72
    assert len(frame) == 72 * 2 * 2
    grades = frame.groupby("model")["score"].mean() * 9 + 1
    assert grades["gpt-4-1106-preview"] == pytest.approx(9.2118, abs=1e-3)
    assert grades["mistralai/Mixtral-8x7B-Instruct-v0.1"] == pytest.approx(8.2813, abs=1e-3)


@needs_full
def test_full_zeroeval_matches_the_published_summary(full: dict[str, pd.DataFrame]) -> None:
    # ZeroEval result_dirs/gsm.summary.md (Acc column; SOURCE.txt quotes gpt-4o-2024-08-06 96.2,
    # gemma-2-2b-it 51.6, Phi-3.5-mini 82.0 and says the derived matrix agrees within ~2.4 points).
    frame = full["zeroeval-gsm8k"]
    published = {
        "gpt-4o-2024-08-06": 96.21,
        "claude-3-5-sonnet-20240620": 95.60,
        "gpt-4o-mini-2024-07-18": 94.24,
        "Meta-Llama-3.1-70B-Instruct": 94.16,
        "claude-3-haiku-20240307": 88.78,
        "Meta-Llama-3.1-8B-Instruct": 84.00,
        "Phi-3.5-mini-instruct": 82.03,
        "gpt-3.5-turbo-0125": 80.36,
        "Mixtral-8x7B-Instruct-v0.1": 70.13,
        "command-r": 52.99,
        "gemma-2-2b-it": 51.63,
    }
    for model, accuracy in published.items():
        assert 100 * _accuracy(frame, model) == pytest.approx(accuracy, abs=2.5), model
    assert 100 * _accuracy(frame, "gpt-4o-2024-08-06") == pytest.approx(96.13, abs=0.01)
    assert 100 * _accuracy(frame, "gemma-2-2b-it") == pytest.approx(52.77, abs=0.01)
    assert frame["prompt_id"].nunique() == 1_319
    assert (frame["model"] == "gemini-1.5-flash-exp-0827").sum() == 681


@needs_full
def test_full_routerarena_matches_source(full: dict[str, pd.DataFrame]) -> None:
    # SOURCE.txt: 809 queries; accuracy claude-3-haiku 0.523, gemini-2.0-flash-001 0.690.
    frame = full["routerarena"]
    assert frame["prompt_id"].nunique() == 809
    assert _accuracy(frame, "claude-3-haiku-20240307") == pytest.approx(0.523, abs=5e-4)
    assert _accuracy(frame, "gemini-2.0-flash-001") == pytest.approx(0.690, abs=5e-4)


@needs_full
def test_full_llmrouter_counts_and_leak(full: dict[str, pd.DataFrame]) -> None:
    # SOURCE.txt: 5,608 train / 500 test items, 9 models; 119 test questions also in train.
    frame = full["llmrouter"]
    prompts = frame.groupby("split")["prompt_id"].nunique()
    assert prompts["train"] == 5_608 and prompts["test"] == 500
    assert len(frame) == (5_608 + 500) * 9
    texts = frame.groupby("split")["prompt"].apply(set)
    assert len(texts["train"] & texts["test"]) == 119
    assert frame.loc[frame["split"] == "test", "task"].value_counts()["gpqa"] == 50 * 9
