"""RouteLLM's MT-Bench outcomes (Apache-2.0; questions from FastChat, Apache-2.0).

`root` is the RouteLLM folder. Reads `routellm/evals/mt_bench/question.jsonl` (80 two-turn
questions) and `judgements.jsonl` (GPT-4 single-answer grades 1..10 of gpt-4-1106-preview and
Mixtral-8x7B for both turns). One row per (question, turn, model): prompt_id
`mtbench-<qid>-t<turn>`, `turn` 1 or 2, task = MT-Bench category, score = (grade - 1) / 9.
The turn-2 prompt carries the turn-1 question too, since the second turn is a follow-up.
Questions with either turn in `mt_bench/contaminated_prompts.jsonl` are dropped whole, as
RouteLLM's benchmark does. Judgements outside 1..10 (FastChat writes -1 when the judge's reply
has no rating) are skipped.

The answers are recovered from the judge prompt; tokens (4 chars/token; turn 2 counts the turn-1
question, the model's own turn-1 answer and the follow-up) and cost are estimates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tierlink.bench.loaders._common import ESTIMATED_ALL, cost_usd, require_file, tokens_from_chars
from tierlink.bench.loaders.prices import ROUTELLM
from tierlink.bench.loaders.routellm_mmlu import contaminated_prompts
from tierlink.core.outcomes import validate_outcomes

QUESTIONS = "routellm/evals/mt_bench/question.jsonl"
JUDGEMENTS = "routellm/evals/mt_bench/judgements.jsonl"
CONTAMINATED = "routellm/evals/mt_bench/contaminated_prompts.jsonl"
FOLLOW_UP = "\n\nFollow-up: "

_ANSWER_START = "[The Start of Assistant's Answer]\n"
_ANSWER_END = "\n[The End of Assistant's Answer]"
_CONVERSATION = "<|The Start of Assistant A's Conversation with User|>"
_ASSISTANT = "### Assistant A:\n"
_USER = "\n\n### User:\n"
_CONVERSATION_END = "\n\n<|The End of Assistant A's Conversation with User|>"


def load(root: Path) -> pd.DataFrame:
    """One row per (MT-Bench question, turn, model) with the graded answer."""
    questions = pd.read_json(require_file(root, QUESTIONS, "RouteLLM"), lines=True)
    judged = pd.read_json(require_file(root, JUDGEMENTS, "RouteLLM"), lines=True, dtype=False)
    flagged = contaminated_prompts(root, CONTAMINATED)
    questions["q1"] = questions["turns"].str[0].astype(str)
    questions["q2"] = questions["turns"].str[1].astype(str)
    questions = questions[~(questions["q1"].isin(flagged) | questions["q2"].isin(flagged))]

    judged = judged.astype({"question_id": int, "turn": int, "score": float})
    judged = judged[judged["score"].between(1, 10)]
    frame = judged.merge(questions, on="question_id", how="inner")
    answers = [_answers(text) for text in frame["user_prompt"].astype(str)]
    first_answer = pd.Series([a[0] for a in answers], index=frame.index, dtype=object)
    response = pd.Series([a[1] for a in answers], index=frame.index, dtype=object)
    second = frame["turn"] == 2
    frame["prompt"] = frame["q1"].where(~second, frame["q1"] + FOLLOW_UP + frame["q2"])
    input_chars = (
        frame["q1"]
        .str.len()
        .where(~second, frame["q1"].str.len() + _lengths(first_answer) + frame["q2"].str.len())
    )
    out = pd.DataFrame(
        {
            "prompt_id": "mtbench-"
            + frame["question_id"].astype(str)
            + "-t"
            + frame["turn"].astype(str),
            "prompt": frame["prompt"],
            "task": frame["category"].astype(str),
            "model": frame["model"].astype(str),
            "score": (frame["score"] - 1) / 9,
            "turn": frame["turn"],
            "response": response,
            "gold": [
                _reference(ref, turn)
                for ref, turn in zip(frame["reference"], frame["turn"], strict=True)
            ],
            "input_tokens": tokens_from_chars(input_chars),
            "output_tokens": tokens_from_chars(_lengths(response)),
        }
    )
    out["cost_usd"] = cost_usd(
        out["input_tokens"], out["output_tokens"], out["model"].map(ROUTELLM)
    )
    out["split"] = "test"
    out["estimated"] = ESTIMATED_ALL
    out = out.sort_values(["prompt_id", "model"], kind="stable")
    return validate_outcomes(out, str(root / JUDGEMENTS))


def _answers(judge_prompt: str) -> tuple[str | None, str | None]:
    """(turn-1 answer, graded answer) as quoted in a FastChat single-answer judge prompt."""
    if _CONVERSATION in judge_prompt:  # turn 2: the whole conversation is quoted
        conversation = judge_prompt.split(_CONVERSATION, 1)[1].split(_CONVERSATION_END, 1)[0]
        turns = conversation.split(_ASSISTANT)
        if len(turns) < 3:
            return None, None
        return turns[1].split(_USER, 1)[0], turns[-1]
    if _ANSWER_START in judge_prompt:  # turn 1: only the answer is quoted
        return None, judge_prompt.split(_ANSWER_START, 1)[1].split(_ANSWER_END, 1)[0]
    return None, None


def _lengths(texts: pd.Series) -> pd.Series:
    """Character counts, NaN where an answer could not be recovered."""
    return texts.map(lambda t: float(len(t)) if isinstance(t, str) else np.nan)


def _reference(reference: object, turn: int) -> str | None:
    """MT-Bench's reference answer for the turn (math, reasoning and coding questions only)."""
    if isinstance(reference, (list, np.ndarray)) and len(reference) >= turn:
        return str(reference[turn - 1])
    return None
