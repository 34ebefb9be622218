"""Rebuild the RouterArena multiple-choice slice shipped in src/tierlink/data/.

Usage: python scripts/make_data_slice.py [../shared/data/outcomes/routerarena]
Keeps queries answered by both models, graded by multiple-choice accuracy, with a one-letter
gold answer, a permissively licensed source benchmark and a prompt under 900 characters (short enough for the device model), sorted by id.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

from tierlink.bench.routerarena import load_routerarena
from tierlink.endpoints.outcome_table import Outcome

OUT = Path(__file__).resolve().parents[1] / "src" / "tierlink" / "data" / "routerarena_mcq.csv"
MAX_PROMPT_CHARS = 900
# Source benchmarks whose licences are known and permissive (see src/tierlink/data/NOTICE.md);
# ArcMMLU, GeoBench and MusicTheoryBench are left out because their terms are unclear.
PERMISSIVE_TASK_PREFIXES = ("MMLUPro", "MMLU_", "OpenTDB", "MedMCQA", "Ethics", "MathQA", "SocialiQA")


def main(root: Path) -> None:
    by_id: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in load_routerarena(root):
        by_id[outcome.prompt_id].append(outcome)
    keep = [
        rows
        for pid, rows in sorted(by_id.items())
        if len(rows) == 2
        and "multiple-choice" in rows[0].prompt
        and len(rows[0].prompt) < MAX_PROMPT_CHARS
        and rows[0].gold is not None
        and len(rows[0].gold) == 1
        and pid.startswith(PERMISSIVE_TASK_PREFIXES)
    ]
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(Outcome.model_fields))
        writer.writeheader()
        for rows in keep:
            for row in sorted(rows, key=lambda o: o.model):
                writer.writerow(row.model_dump())
    print(f"wrote {len(keep)} prompts x 2 models to {OUT}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "outcomes" / "routerarena"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
