"""PII detection on Presidio-research's 1,500 labelled synthetic sentences: precision and recall
per entity type (a found span counts when it overlaps a labelled span of the same type), and
milliseconds per message. Live on this machine; the sentences are Faker-generated (MIT).

    python benchmarks/pii_redaction.py [--data ../shared/data/pii/presidio_research/data/synth_dataset_v2.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.trust.pii import DEFAULT_ENTITIES, PiiDetector, Span  # noqa: E402

DATA = ROOT.parent / "shared/data/pii/presidio_research/data/synth_dataset_v2.json"
TARGETS = {"PERSON": (0.8, None), "STREET_ADDRESS": (0.8, None)}  # recall only; structured: 0.95 / 0.90


def overlaps(a: Span, start: int, end: int) -> bool:
    return a.start < end and start < a.end


def evaluate(records: list[dict], detector: PiiDetector) -> tuple[dict[str, list[int]], list[float]]:
    """Per entity: [true positives of recall, gold spans, true positives of precision, found spans]."""
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    times = []
    for record in records:
        text = record["full_text"]
        started = time.perf_counter()
        found = detector.find(text)
        times.append((time.perf_counter() - started) * 1000)
        gold = [(s["entity_type"], s["start_position"], s["end_position"]) for s in record["spans"]]
        for entity, start, end in gold:
            if entity in DEFAULT_ENTITIES:
                counts[entity][1] += 1
                counts[entity][0] += any(f.entity == entity and overlaps(f, start, end) for f in found)
        for span in found:
            counts[span.entity][3] += 1
            counts[span.entity][2] += any(e == span.entity and overlaps(span, s, t) for e, s, t in gold)
    return counts, times


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    records = json.loads(args.data.read_text(encoding="utf-8"))
    detector = PiiDetector()
    detector.find("warm-up: jane@example.com")
    for split, part in (("dev (even sentences: the patterns were written looking at these)", records[0::2]),
                        ("test (odd sentences: never looked at)", records[1::2])):
        report(split, part, detector, commit)


def report(split: str, records: list[dict], detector: PiiDetector, commit: str) -> None:
    counts, times = evaluate(records, detector)
    print(f"\n{split}: {len(records)} sentences, commit {commit} (live): ms per message median "
          f"{statistics.median(times):.2f}, p95 {statistics.quantiles(times, n=20)[18]:.2f}\n")
    print("| entity | gold spans | recall | found spans | precision | target |")
    print("|---|---|---|---|---|---|")
    for entity in DEFAULT_ENTITIES:
        hit, gold, right, found = counts[entity]
        recall, precision = hit / gold if gold else float("nan"), right / found if found else float("nan")
        target = "recall ≥ 0.80" if entity in TARGETS else "recall ≥ 0.95, precision ≥ 0.90"
        met = recall >= 0.8 if entity in TARGETS else recall >= 0.95 and precision >= 0.90
        print(f"| {entity} | {gold} | {recall:.3f} | {found} | {precision:.3f} | {target}: {'met' if met else 'missed'} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    main(parser.parse_args())
