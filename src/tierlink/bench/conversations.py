"""The case study (Sec. V of the paper): multi-turn conversations built from recorded outcomes.

Each conversation has 5 to 10 turns (the paper's kitchen-assistant dialogues) drawn from several task categories: grade-school maths
(ZeroEval GSM8K: gemma-2-2b-it on the device, gpt-4o in the cloud), knowledge questions
(RouteLLM MMLU) and two-turn chat (both turns of MT-Bench; Mixtral-8x7B on the device side,
GPT-4 in the cloud). Per-turn quality is **replay**. Latency and dollars are **simulated**
from the real (or recorded-length) token counts, the endpoint profiles (a Jetson Orin Nano
device, GPT-4o's list prices) and a link profile. Every turn offers three 1280 x 720 camera views
as attachments, billed by GPT-4o's published image-token formula (1,105 tokens each) and sized
as measured JPEGs (`scripts/measure_camera_jpeg.py`); about a third of the turns need one of
them (named in the question), and a turn answered without that view scores half: this
attachment effect is **simulated**.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel

from tierlink.bench.datasets import load_from
from tierlink.bench.loaders.routellm_mtbench import FOLLOW_UP
from tierlink.bench.splits import hash_split
from tierlink.core.messages import Attachment, Message, Request
from tierlink.endpoints.outcome_table import OutcomeTable

VIEWS = ("front", "left", "rear")
VIEW_WIDTH_PX, VIEW_HEIGHT_PX = 1280, 720  # a 720p robot camera frame
# measured: mean JPEG size (quality 75) of two real 640x427 photographs (scikit-learn's CC BY 2.0
# sample images) per pixel, times 1280 x 720 pixels: 206 kB and 90 kB (scripts/measure_camera_jpeg.py)
VIEW_JPEG_BYTES = 148_000
TURNS_PER_CONVERSATION = (5, 10)
CASE_DEVICE = "jetson-orin-nano/phi3.5-mini-q4"  # the paper's Phi-3-mini-class model on a Jetson board
CASE_CLOUD = "gpt-4o"
TEST_SHARE = 0.3
VALIDATION_SHARE = 0.25  # of the train split: questions held out for model selection ("validation")
Split = Literal["all", "train", "test", "fit", "validation"]
VISUAL_SHARE = 1 / 3
MISSING_VIEW_FACTOR = 0.5  # simulated: a visual turn answered without its view scores half
MISSING_CONTEXT_FACTOR = 0.5  # simulated: a follow-up answered without the turn it follows scores half
SOURCES = (
    # (dataset, device-side model, cloud-side model, category)
    ("zeroeval-gsm8k", "gemma-2-2b-it", "gpt-4o-2024-08-06", "math"),
    ("routellm-mmlu", "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview", "knowledge"),
)
MTBENCH = ("routellm-mtbench", "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview", "chat")


class ConversationTurn(BaseModel):
    """One turn of a case-study conversation: the prompt to replay and the view it needs."""

    prompt_id: str
    text: str
    category: str
    view: str | None  # the camera view this turn needs, if any
    follows_up: bool = False  # MT-Bench's second turn: meaningless without the first


class Conversation(BaseModel):
    """The turns one session answers in order, under one budget."""

    conversation_id: str
    turns: list[ConversationTurn]


@dataclass(frozen=True)
class CaseStudy:
    """Conversations plus the two role tables ('device' and 'cloud' records) replay serves."""

    conversations: list[Conversation]
    table: OutcomeTable
    sources: str


def camera_views() -> tuple[Attachment, ...]:
    """The three 1280 x 720 JPEG views a robot offers every turn (~148 kB each, measured)."""
    return tuple(
        Attachment(kind="image", mime="image/jpeg", size_bytes=VIEW_JPEG_BYTES, width_px=VIEW_WIDTH_PX,
                   height_px=VIEW_HEIGHT_PX, description=f"{view} camera view")
        for view in VIEWS
    )


def view_hint(view: str) -> str:
    """How a turn that needs a camera view says so (the relevance scorer reads it)."""
    return f"(Look at the {view} camera view.)"


def turn_request(turn: ConversationTurn, max_tokens: int = 512) -> Request:
    """The turn as a Request with all three camera views attached (the text names the one needed)."""
    text = turn.text if turn.view is None else f"{turn.text}\n{view_hint(turn.view)}"
    return Request(messages=(Message(role="user", content=text),), attachments=camera_views(),
                   prompt_id=turn.prompt_id, max_tokens=max_tokens)


def build_case_study(n: int = 60, seed: int = 0, data_root: Path | None = None, split: Split = "all") -> CaseStudy:
    """n conversations of 5-10 turns, deterministic for a seed. `split` draws the questions from
    the train or test part (by a hash of the question id) so that a router trained on one
    never sees the other's outcomes."""
    rng = random.Random(seed)
    roles: list[pd.DataFrame] = []
    pools: dict[str, list[tuple[str, str]]] = {}
    for key, device, cloud, category in SOURCES:
        frame = _in_split(_roles(key, device, cloud, data_root), split)
        roles.append(frame)
        pools[category] = sorted(zip(frame["prompt_id"].unique(), frame.drop_duplicates("prompt_id")["prompt"], strict=True))
    chat = _in_split(_roles(*MTBENCH[:3], data_root), split)
    roles.append(chat)
    firsts = sorted(pid for pid in chat["prompt_id"].unique() if pid.endswith("-t1"))
    texts = dict(zip(chat["prompt_id"], chat["prompt"], strict=False))
    conversations = []
    for index in range(n):
        length = rng.randint(*TURNS_PER_CONVERSATION)
        turns: list[ConversationTurn] = []
        while len(turns) < length:
            category = rng.choice(["math", "knowledge", "chat"])
            if category == "chat" and length - len(turns) >= 2:
                first = rng.choice(firsts)
                second = first[:-1] + "2"
                turns.append(_turn(first, texts[first], "chat", rng))
                turns.append(_turn(second, texts[second].split(FOLLOW_UP)[-1], "chat", rng, follows_up=True))
            elif category != "chat":
                pid, text = rng.choice(pools[category])
                turns.append(_turn(pid, text, category, rng))
        conversations.append(Conversation(conversation_id=f"conv-{seed}-{index}", turns=turns))
    table = OutcomeTable(pd.concat(roles, ignore_index=True))
    where = "full sets under " + str(data_root) if data_root else "slices shipped with tierlink"
    return CaseStudy(conversations, table, where)


def _in_split(frame: pd.DataFrame, split: Split) -> pd.DataFrame:
    """Rows whose question falls in `split` (both MT-Bench turns of a question stay together)."""
    if split == "all":
        return frame
    question = frame["prompt_id"].str.replace(r"-t[12]$", "", regex=True)
    chosen = question.map(lambda q: _split_of(q) == split or (split == "train" and _split_of(q) in ("fit", "validation")))
    return frame[chosen]


def _split_of(question: str) -> str:
    """'test', or for the train split 'fit' / 'validation' (a second, independent hash)."""
    if hash_split(question, TEST_SHARE) == "test":
        return "test"
    return "validation" if hash_split(question, VALIDATION_SHARE, seed=1) == "test" else "fit"


def _turn(prompt_id: str, text: str, category: str, rng: random.Random, follows_up: bool = False) -> ConversationTurn:
    view = rng.choice(VIEWS) if rng.random() < VISUAL_SHARE else None
    return ConversationTurn(prompt_id=prompt_id, text=text, category=category, view=view, follows_up=follows_up)


def _roles(key: str, device: str, cloud: str, data_root: Path | None) -> pd.DataFrame:
    """The dataset's device-side and cloud-side records, renamed to the roles 'device'/'cloud'."""
    frame = load_from(key, data_root)
    both = frame[frame["model"].isin([device, cloud])]
    answered = both.groupby("prompt_id")["model"].transform("nunique") == 2
    both = both[answered].copy()
    both["model"] = both["model"].map({device: "device", cloud: "cloud"})
    return both
