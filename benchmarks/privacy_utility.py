"""The privacy–utility knob: the same questions about texts holding personal data, answered by a
cloud model under each zone rule (personal data sent as written, as tokens, as tokens but dates in
clear, or refused so the device answers), and by the device alone. (live)

Questions come from Presidio-research's labelled sentences (`../shared/data/pii`, MIT; the odd half,
which no pattern was written against): *extract* asks for the one labelled value of a sentence (an
email, a phone, a name, an address, ...), graded by the gold value in the answer the user sees
(restored on the device); *date* asks whether the sentence's year is before 2000, graded yes/no,
the kind of question a token cannot answer. Leaks are counted with Presidio's own labels, not the
detector's: every labelled value that reached the cloud model in clear. Both models run in process
(llama.cpp): the device is Qwen2.5-Coder 0.5B, the "cloud" a stand-in, Qwen2.5-Coder 1.5B in its own
privacy zone. Everything goes through `Session` with `ZoneRules`, as a deployment would.

    python benchmarks/privacy_utility.py [--questions 60] [--data ../shared/data/pii/.../synth_dataset_v2.json]
    python benchmarks/privacy_utility.py --part case-study [--policies always-cloud threshold cascade]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tierlink.bench.intervals import mean_interval  # noqa: E402
from tierlink.bench.transcript import Transcript  # noqa: E402
from tierlink.config.build import catalogue_endpoint  # noqa: E402
from tierlink.core import Budget, Request  # noqa: E402
from tierlink.routing.policies.fixed import AlwaysCloud, AlwaysDevice  # noqa: E402
from tierlink.routing.session import Session  # noqa: E402
from tierlink.trust.pii import PiiDetector  # noqa: E402
from tierlink.trust.pseudonyms import Pseudonymiser  # noqa: E402
from tierlink.trust.zones import ZoneRule, ZoneRules  # noqa: E402

DATA = ROOT.parent / "shared/data/pii/presidio_research/data/synth_dataset_v2.json"
ASKED = {"EMAIL_ADDRESS": "email address", "PHONE_NUMBER": "phone number", "PERSON": "person's name",
         "STREET_ADDRESS": "street address", "CREDIT_CARD": "credit card number", "IBAN_CODE": "IBAN",
         "IP_ADDRESS": "IP address", "US_SSN": "social security number"}
CONDITIONS = {"off": ZoneRule(pii="off"), "pseudonymise": ZoneRule(pii="pseudonymise"),
              "pseudonymise, dates in clear": ZoneRule(pii="pseudonymise", keep=frozenset({"DATE_TIME"})),
              "refuse": ZoneRule(pii="refuse")}


def questions(records: list[dict], count: int) -> list[dict]:
    """Two thirds extract, one third date questions, from the test half, in file order."""
    extract, dates = [], []
    for record in records[1::2]:
        spans = record["spans"]
        asked = [s for s in spans if s["entity_type"] in ASKED]
        if len(asked) == 1 and len({s["entity_type"] for s in spans}) <= 3:
            span = asked[0]
            extract.append({"kind": "extract", "text": record["full_text"], "gold": span["entity_value"],
                            "question": f"What is the {ASKED[span['entity_type']]} in the text? Reply with it only.",
                            "values": [s["entity_value"] for s in spans]})
        years = [m for s in spans if s["entity_type"] == "DATE_TIME" for m in re.findall(r"\b(1[89]\d\d|20\d\d)\b", s["entity_value"])]
        if len(set(years)) == 1:
            dates.append({"kind": "date", "text": record["full_text"], "gold": "yes" if int(years[0]) < 2000 else "no",
                          "question": "Is the year mentioned in the text before 2000? Reply yes or no.",
                          "values": [s["entity_value"] for s in spans]})
    n_dates = count // 3
    return extract[:count - n_dates] + dates[:n_dates]


def correct(answer: str, item: dict) -> bool:
    """Extract: the gold value (spaces and case aside) in the answer; date: the right yes/no first."""
    if item["kind"] == "date":
        found = re.search(r"\b(yes|no)\b", answer.lower())
        return bool(found) and found[1] == item["gold"]
    squash = lambda s: re.sub(r"[\s().-]", "", s.lower())  # noqa: E731
    return squash(item["gold"]) in squash(answer)


async def answer_all(items: list[dict], condition: str, device: Transcript, cloud: Transcript,
                     detector: PiiDetector) -> list[dict]:
    """Each question in a fresh conversation under one condition: right or not, what leaked, held back."""
    rows = []
    for item in items:
        sent_before = len(cloud.received)
        policy = AlwaysDevice() if condition == "device only" else AlwaysCloud("cloud")
        rules = ZoneRules(default=CONDITIONS.get(condition, ZoneRule()))
        session = Session({"device": device, "cloud": cloud}, "device", policy, Budget(), {"device": "device", "cloud": "cloud"},
                          rules=rules, pseudonymiser=Pseudonymiser(detector=detector) if rules.detects else None)
        result = await session.ask(Request.of(f"Text: {item['text']}\n\n{item['question']}", max_tokens=32))
        wire = " ".join(text for _, text in cloud.received[sent_before:])
        rows.append({"condition": condition, "kind": item["kind"], "correct": correct(result.answer, item),
                     "leaked": sum(v in wire for v in item["values"]), "values": len(item["values"]),
                     "held_back": session.stats.held_back, "cloud_calls": len(cloud.received) - sent_before})
    return rows


def interval(values: list[bool]) -> str:
    """Mean with a 95% bootstrap interval over questions."""
    found = mean_interval([float(v) for v in values])
    return f"{found.value:.2f} [{found.low:.2f}, {found.high:.2f}]"


def summary(rows: list[dict]) -> None:
    """Accuracy per question kind, the values that reached the cloud in clear, and the calls refused."""
    print("\n| rule for the cloud zone | accuracy, extract | accuracy, date | labelled values sent in clear "
          "| cloud calls made | held on the device |")
    print("|---|---|---|---|---|---|")
    for condition in dict.fromkeys(r["condition"] for r in rows):
        part = [r for r in rows if r["condition"] == condition]
        extract = [r["correct"] for r in part if r["kind"] == "extract"]
        dates = [r["correct"] for r in part if r["kind"] == "date"]
        print(f"| {condition} | {interval(extract)} | {interval(dates)} | {sum(r['leaked'] for r in part)} of "
              f"{sum(r['values'] for r in part)} | {sum(r['cloud_calls'] for r in part)} | {sum(r['held_back'] for r in part)} |")


async def run(items: list[dict], device_model: str, cloud_model: str) -> list[dict]:
    device = Transcript(catalogue_endpoint(device_model, "--device"))
    cloud = Transcript(catalogue_endpoint(cloud_model, "--cloud", node="cloud"))
    rows, detector = [], PiiDetector()
    for condition in [*CONDITIONS, "device only"]:
        rows += await answer_all(items, condition, device, cloud, detector)
        print(f"{condition}: {sum(r['correct'] for r in rows[-len(items):])}/{len(items)} right", file=sys.stderr, flush=True)
    await device.aclose()
    await cloud.aclose()
    return rows


async def case_study(policies: list[str]) -> None:
    """The case study's conversations (Fig. 4, replay) under each rule: quality, and the cloud
    calls the rule refused. Replayed answers do not depend on what was sent, so `pseudonymise`
    shows what was replaced, not what it costs; `refuse` is measured (the device's recorded
    answer replaces the cloud's)."""
    from functools import partial

    from tierlink.bench.case_study_run import PER_QUERY_POLICIES, run_policy
    from tierlink.bench.conversations import CASE_CLOUD, CASE_DEVICE, build_case_study
    from tierlink.endpoints.registry import endpoint_profiles
    from tierlink.network.link import Link
    from tierlink.network.registry import link_profiles
    from tierlink.routing.policy import make_policy
    from tierlink.routing.relevance import default_scorer

    case, profiles, scorer = build_case_study(), endpoint_profiles(), default_scorer()
    link = Link.from_profile("5g", "robot", "cloud", link_profiles().require("5g", "--link"))
    rules = {"off": None, "pseudonymise": ZoneRule(pii="pseudonymise"), "refuse": ZoneRule(pii="refuse"),
             "refuse, dates in clear": ZoneRule(pii="refuse", keep=frozenset({"DATE_TIME"}))}
    print(f"\ncase study: {len(case.conversations)} conversations, {sum(len(c.turns) for c in case.conversations)} turns, "
          "budget 30 s and $0.05 each, link 5g (quality replay; latency and dollars simulated)\n")
    print("| policy | rule for the cloud zone | mean quality | cloud share | turns held on the device | values sent as tokens | $ per conversation |")
    print("|---|---|---|---|---|---|---|")
    for name in policies:
        for label, rule in rules.items():
            zone_rules = None if rule is None else ZoneRules(default=rule)
            row = await run_policy(name, partial(make_policy, name, **PER_QUERY_POLICIES.get(name, {})), case,
                                   Budget(latency_s=30.0, dollars=0.05), link, profiles[CASE_DEVICE], profiles[CASE_CLOUD],
                                   scorer, unconstrained=False, rules=zone_rules)
            print(f"| {name} | {label} | {row.mean_quality:.3f} | {row.cloud_share:.2f} | {row.held_back} | {row.redacted} "
                  f"| {row.mean_dollars:.4f} |", flush=True)


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if args.part == "case-study":
        print(f"commit {commit}")
        asyncio.run(case_study(args.policies))
        return
    items = questions(json.loads(args.data.read_text(encoding="utf-8")), args.questions)
    rows = asyncio.run(run(items, args.device, args.cloud))
    args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    kinds = {k: sum(i["kind"] == k for i in items) for k in ("extract", "date")}
    print(f"\n{kinds['extract']} extract + {kinds['date']} date questions; device {args.device}, cloud stand-in {args.cloud}, "
          f"both in process, commit {commit} (live)")
    summary(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--device", default="qwen2.5-coder-0.5b")
    parser.add_argument("--cloud", default="qwen2.5-coder-1.5b")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/privacy_utility.jsonl")
    parser.add_argument("--part", choices=["questions", "case-study"], default="questions")
    parser.add_argument("--policies", nargs="+", default=["always-cloud", "threshold", "cascade"])
    main(parser.parse_args())
