"""The prompt-injection detector on the deepset test split (116 texts, English and German) and
on BIPIA's test split (benign email paragraphs, text attacks), which training never saw: F1, precision and recall of the phrase heuristics alone, the
classifier alone (C chosen by 5-fold CV on the train split), and both (what tierlink uses), with
95% bootstrap intervals over the test texts. Live on this machine.

    python benchmarks/injection_detector.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.trust.injection import HEURISTICS, InjectionDetector, shipped_split  # noqa: E402

BIPIA = ROOT.parent / "shared/data/security/bipia/benchmark"


def interval(labels: np.ndarray, predicted: np.ndarray, draws: int = 1000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    scores = [f1_score(labels[i], predicted[i]) for i in (rng.integers(0, len(labels), len(labels)) for _ in range(draws))]
    return float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    texts, labels = shipped_split("test")
    y = np.asarray(labels)
    started = time.perf_counter()
    detector = InjectionDetector()
    detector.probability("warm up")
    trained = time.perf_counter() - started
    started = time.perf_counter()
    rows = {
        "phrase heuristics alone": np.asarray([HEURISTICS.search(t) is not None for t in texts]),
        "classifier alone": np.asarray([detector.probability(t) >= detector.threshold for t in texts]),
        "both (tierlink's guard)": np.asarray([detector.flags(t) for t in texts]),
    }
    per_text_ms = (time.perf_counter() - started) / (3 * len(texts)) * 1000
    print(f"\ndeepset test split, {len(texts)} texts ({int(y.sum())} injections), commit {commit} (live); "
          f"training with CV {trained:.1f} s (C = {detector.chosen_c:g}); ~{per_text_ms:.2f} ms a text\n")
    print("| detector | F1 [95% CI] | precision | recall |")
    print("|---|---|---|---|")
    for name, predicted in rows.items():
        low, high = interval(y, predicted)
        print(f"| {name} | {f1_score(y, predicted):.3f} [{low:.3f}, {high:.3f}] | {precision_score(y, predicted):.3f} "
              f"| {recall_score(y, predicted):.3f} |")
    bipia_documents(detector)


def bipia_documents(detector: InjectionDetector) -> None:
    """On BIPIA's test split (never trained on): benign email paragraphs flagged, attacks caught."""
    if not BIPIA.is_dir():
        print(f"\n(BIPIA not found at {BIPIA}: its figures are left out)")
        return
    items = [json.loads(line) for line in (BIPIA / "email/test.jsonl").read_text(encoding="utf-8").splitlines()]
    paragraphs = [p.strip() for item in items for p in re.split(r"\n\s*\n", item["context"]) if len(p.strip()) > 3]
    attacks = [a for v in json.loads((BIPIA / "text_attack_test.json").read_text(encoding="utf-8")).values() for a in v]
    flagged = sum(detector.flags(p) for p in paragraphs)
    caught = sum(detector.flags(a) for a in attacks)
    print(f"\nBIPIA test split: benign email paragraphs flagged {flagged} / {len(paragraphs)} "
          f"({flagged / len(paragraphs):.3f}); text attacks flagged {caught} / {len(attacks)} ({caught / len(attacks):.3f})")


if __name__ == "__main__":
    main()
