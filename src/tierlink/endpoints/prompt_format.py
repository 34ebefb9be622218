"""How chat messages become a prompt for a *base* (non-instruct) model.

Gemma 3 270M as shipped is a pre-trained base model: it continues text rather than following
chat turns. A plain "Question:/Answer:" transcript is the format it completes most reliably;
the stop strings keep it from inventing the next question.
"""

from __future__ import annotations

from tierlink.core.messages import Message

QA_STOPS: tuple[str, ...] = ("\nQuestion:", "\n\n\n", "<end_of_turn>", "<eos>")


def qa_transcript(messages: tuple[Message, ...]) -> str:
    """Render messages as a Question/Answer transcript ending in an open 'Answer:'."""
    labels = {"system": "", "user": "Question: ", "assistant": "Answer: "}
    lines = [labels[m.role] + m.content.strip() for m in messages]
    return "\n".join([*lines, "Answer:"])
