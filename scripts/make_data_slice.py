"""Rebuild the RouterArena multiple-choice slice shipped in src/tierlink/data/.

Usage: python scripts/make_data_slice.py [../shared/data/outcomes/routerarena]
Keeps queries answered by both models, graded by multiple-choice accuracy, with a one-letter
gold answer, a permissively licensed source benchmark and a prompt under 900 characters
(short enough for the device model), sorted by id.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tierlink.bench.routerarena import load_routerarena
from tierlink.core.outcomes import write_outcomes

OUT = Path(__file__).resolve().parents[1] / "src" / "tierlink" / "data" / "routerarena_mcq.csv"
MAX_PROMPT_CHARS = 900
# Source benchmarks whose licences are known and permissive (see src/tierlink/data/NOTICE.md);
# ArcMMLU, GeoBench and MusicTheoryBench are left out because their terms are unclear.
PERMISSIVE_TASK_PREFIXES = ("MMLUPro", "MMLU_", "OpenTDB", "MedMCQA", "Ethics", "MathQA", "SocialiQA")


def main(root: Path) -> None:
    frame = load_routerarena(root)
    both = frame.groupby("prompt_id")["model"].transform("count") == 2
    keep = (
        both
        & frame["prompt"].str.contains("multiple-choice")
        & (frame["prompt"].str.len() < MAX_PROMPT_CHARS)
        & frame["gold"].fillna("").str.fullmatch(r"[A-Z]")
        & frame["prompt_id"].str.startswith(PERMISSIVE_TASK_PREFIXES)
    )
    sliced = frame[keep].sort_values(["prompt_id", "model"])
    write_outcomes(sliced, OUT)
    print(f"wrote {sliced['prompt_id'].nunique()} prompts x 2 models to {OUT}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "outcomes" / "routerarena"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
