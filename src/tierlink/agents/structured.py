"""Structured messages: ask an agent for JSON matching a pydantic model, validate it, and give
it one chance to repair invalid output; after that the output is rejected cleanly (None and a
note), never passed on half-valid.

With `constrain=True` the schema also travels with the request (llama.cpp turns it into a
grammar, OpenAI-compatible servers into `response_format`), which makes valid output far more
likely; grammar-constrained decoding is slow on a small CPU model, so it is optional.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tierlink.agents.team import Agent
from tierlink.agents.traffic import Traffic
from tierlink.core.errors import TierlinkError
from tierlink.core.messages import Request

Model = TypeVar("Model", bound=BaseModel)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

ASK = "{prompt}\n\nReply with JSON only, matching this schema:\n{schema}"
REPAIR = ("{prompt}\n\nYour previous reply was not valid:\n{reply}\n\nProblem: {problem}\n"
          "Reply again with JSON only, matching this schema:\n{schema}")


def parse(model: type[Model], text: str) -> Model:
    """The first JSON object in `text`, validated (models often wrap JSON in prose or fences)."""
    found = _OBJECT.search(text)
    return model.model_validate_json(found.group(0) if found else text)


def prompt_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema shown to (and enforced on) an agent: fields and their descriptions, without
    the classes' docstrings, which are for the code's readers and would only lengthen prompts."""
    schema = model.model_json_schema()
    schema.pop("description", None)
    for definition in schema.get("$defs", {}).values():
        definition.pop("description", None)
    return schema


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "the reply"
    return f"{where}: {first.get('msg', 'invalid')} ({exc.error_count()} error(s))"


async def ask_structured(traffic: Traffic, agent: Agent, prompt: str, model: type[Model], round: int, max_tokens: int,
                         constrain: bool = False) -> Model | None:
    """A validated `model` from `agent`, after at most one repair; None (noted) if still invalid.
    Both calls are charged to the run's traffic."""
    notes = traffic.notes
    schema = prompt_schema(model)
    shown = json.dumps(schema, separators=(",", ":"))
    text = ASK.format(prompt=prompt, schema=shown)
    for attempt in ("first reply", "repair"):
        try:
            completion = await agent.endpoint.complete(
                Request.of(text, max_tokens=max_tokens, json_schema=schema if constrain else None, turn=round))
        except TierlinkError as exc:
            notes.append(f"{agent.name}: {exc}")
            return None
        traffic.charge(agent.name, round, completion.usage)
        try:
            result = parse(model, completion.text)
        except ValidationError as exc:
            problem = _problem(exc)
            if attempt == "repair":
                notes.append(f"{agent.name}: invalid {model.__name__} after one repair ({problem}); rejected")
                return None
            notes.append(f"{agent.name}: invalid {model.__name__} ({problem}); asked to repair")
            text = REPAIR.format(prompt=prompt, reply=completion.text[:1000], problem=problem, schema=shown)
            continue
        if attempt == "repair":
            notes.append(f"{agent.name}: {model.__name__} repaired")
        return result
    return None
