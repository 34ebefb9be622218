"""Calibrate a catalogue model's cascade threshold from its recorded drafts (printed for models.yaml).

Usage: python scripts/calibrate_cascade.py DEVICE [--target 0.9] [--data-root ../shared/data/outcomes]

Held-in data, never the demo's questions: the device's RouterArena drafts outside the shipped
demo slice (their strong side, gemini-2.0-flash-001, from the full RouterArena set) and its
LLMRouter drafts of the train split (strong side qwen2.5-7b-instruct, recorded). The signal is
the one of SIGNALS' confidence signals with the best AUROC for the draft being right on that
data; the threshold is the fewest cloud calls that recover `target` of the quality gap between
always-device and always-cloud (learn.calibrate, target pgr). The same threshold is then read on
the demo slice itself, as a held-out check.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tierlink.bench.live_drafts import DRAFT_FILES, STRONG, draft_path, recorded_outcomes
from tierlink.bench.pair import ModelPair
from tierlink.core.outcomes import read_outcomes
from tierlink.learn.calibrate import achieved, calibrate

CONFIDENCE = {"choice_share": "min_choice_share", "mean_logprob": "min_logprob"}  # signal -> cascade param


def joined(device: str, which: str, recorded: pd.DataFrame) -> pd.DataFrame:
    """The device's drafts with the strong model's recorded score on the same prompt."""
    drafts = read_outcomes(draft_path(device, which))
    strong = recorded[recorded["model"] == STRONG[which]][["prompt_id", "score"]].rename(columns={"score": "strong"})
    return drafts.merge(strong, on="prompt_id")


def pair_of(frame: pd.DataFrame) -> ModelPair:
    n = len(frame)
    return ModelPair(weak="device", strong="cloud", prompt_ids=frame["prompt_id"].to_numpy(str),
                     prompts=frame["prompt"].to_numpy(str), tasks=frame["task"].to_numpy(str),
                     weak_score=frame["score"].to_numpy(float), strong_score=frame["strong"].to_numpy(float),
                     weak_cost=np.zeros(n), strong_cost=np.ones(n), cost_unit="cloud calls")


def escalation_scores(frame: pd.DataFrame, signal: str) -> np.ndarray:
    """Higher = send to the cloud: minus the confidence, a draft without the signal first."""
    values = -frame[f"signal_{signal}"].to_numpy(float)
    return np.where(np.isfinite(values), values, np.nanmax(values) + 1.0)


def main(device: str, target: float, data_root: Path) -> None:
    arena = recorded_outcomes("routerarena", data_root)
    demo_ids = set(recorded_outcomes("routerarena")["prompt_id"])
    arena_drafts = joined(device, "routerarena", arena)
    parts = [arena_drafts[~arena_drafts["prompt_id"].isin(demo_ids)]]
    if draft_path(device, "llmrouter").is_file():
        recorded = recorded_outcomes("llmrouter")
        router = joined(device, "llmrouter", recorded)
        split = recorded.drop_duplicates("prompt_id").set_index("prompt_id")["split"]
        parts.append(router[router["prompt_id"].map(split) == "train"])
    held_in = pd.concat(parts, ignore_index=True)
    held_out = arena_drafts[arena_drafts["prompt_id"].isin(demo_ids)].reset_index(drop=True)
    aurocs = {s: roc_auc_score(held_in["score"] >= 0.5, -escalation_scores(held_in, s)) for s in CONFIDENCE}
    signal = max(aurocs, key=lambda s: aurocs[s])
    pair = pair_of(held_in)
    result = calibrate("pgr", target, pair, escalation_scores(held_in, signal))
    limit = float(np.nextafter(-result.threshold, np.inf))  # accept a draft whose signal is above it
    out_pair, out_scores = pair_of(held_out), escalation_scores(held_out, signal)
    print(f"{device}: held-in {len(held_in)} drafts (device accuracy {pair.weak_score.mean():.3f}, cloud "
          f"{pair.strong_score.mean():.3f}); AUROC {', '.join(f'{k} {v:.3f}' for k, v in aurocs.items())}")
    print(f"  signal {signal}: threshold {limit:.4f}; held-in PGR {result.held_in:.3f}, cloud share "
          f"{achieved('share', pair, escalation_scores(held_in, signal), result.threshold):.3f}")
    print(f"  held-out demo slice ({len(held_out)}): PGR {achieved('pgr', out_pair, out_scores, result.threshold):.3f}, "
          f"cloud share {achieved('share', out_pair, out_scores, result.threshold):.3f}")
    print(f"  models.yaml:  cascade: {{{CONFIDENCE[signal]}: {limit:.4f}{', min_logprob: null' if signal != 'mean_logprob' else ''}}}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("device", choices=sorted(DRAFT_FILES))
    parser.add_argument("--target", type=float, default=0.9, help="share of the device-to-cloud quality gap to recover")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data/outcomes"))
    args = parser.parse_args()
    main(args.device, args.target, args.data_root)
