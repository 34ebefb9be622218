"""Reversible pseudonymisation: personal data leaves the device's zone as `<EMAIL_ADDRESS_1>`,
`<PERSON_2>`, ... and the answer comes back with the values restored, on the device. One
Pseudonymiser per conversation, so a value keeps its token from turn to turn and a remote model
can still tell two people apart. The audit says what left (entity types and counts), never values."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tierlink.trust.pii import PiiDetector, Span

_TOKEN = re.compile(r"<([A-Z_]+)_(\d+)>")
MAX_REMEMBERED_TEXTS = 4096  # detection results kept per conversation before starting afresh
_LOOSE_TOKEN = re.compile(r"<?\b([A-Z][A-Z_]*_\d+)\b>?")  # with or without its brackets


@dataclass(frozen=True)
class Crossing:
    """One call that took personal data out of the device's zone: where, and what (never values)."""

    turn: int
    endpoint: str
    zone: str
    entities: dict[str, int]


@dataclass
class Pseudonymiser:
    """Values and their tokens for one conversation; `redact` on the way out, `restore` on the way in."""

    detector: PiiDetector = field(default_factory=PiiDetector)
    tokens: dict[str, str] = field(default_factory=dict)  # value -> token
    values: dict[str, str] = field(default_factory=dict)  # token -> value
    _per_type: Counter[str] = field(default_factory=Counter)
    _found: dict[str, list[Span]] = field(default_factory=dict, repr=False)  # text -> its spans (history repeats)

    def _spans(self, text: str) -> list[Span]:
        """The detector's spans in `text`, found once per distinct text: a conversation's history is
        sent (and checked against every zone's rule) again each turn."""
        if text not in self._found:
            if len(self._found) >= MAX_REMEMBERED_TEXTS:
                self._found.clear()
            self._found[text] = self.detector.find(text)
        return self._found[text]

    def _token_for(self, entity: str, value: str) -> str:
        token = self.tokens.get(value)
        if token is None:
            self._per_type[entity] += 1
            token = f"<{entity}_{self._per_type[entity]}>"
            self.tokens[value], self.values[token] = token, value
        return token

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        """`text` with every detected value (and every value seen before) replaced by its token,
        and how many of each type were replaced."""
        texts, found = self.redact_all([text])
        return texts[0], found

    def redact_all(self, texts: list[str], keep: frozenset[str] = frozenset()) -> tuple[list[str], Counter[str]]:
        """Several texts (a request's messages) redacted together: a value the detector finds in
        any of them is replaced in all of them, whatever their order. Each text is read once.
        Values of the types in `keep` go in clear (a zone's rule lets them)."""
        spans = [[s for s in self._spans(text) if s.entity not in keep] for text in texts]
        for text, found in zip(texts, spans, strict=True):
            for span in found:
                self._token_for(span.entity, text[span.start:span.end])
        counts: Counter[str] = Counter()
        out = []
        for text, found in zip(texts, spans, strict=True):
            redacted, replaced = self._replaced(text, found, keep)
            out.append(redacted)
            counts += replaced
        return out, counts

    def types_in(self, texts: list[str], keep: frozenset[str] = frozenset()) -> set[str]:
        """The types of personal data (other than `keep`) these texts hold: detected now, or
        values this conversation already knows."""
        types = {s.entity for text in texts for s in self._spans(text)}
        types |= {_TOKEN.match(token)[1] for value, token in self.tokens.items()  # type: ignore[index]
                  if any(value in text for text in texts)}
        return types - keep

    def _replaced(self, text: str, spans: list[Span], keep: frozenset[str] = frozenset()) -> tuple[str, Counter[str]]:
        """`text` with its detected `spans`, then every value already known (but of a type in
        `keep`), as tokens."""
        found: Counter[str] = Counter()
        pieces, last = [], 0
        for span in spans:
            pieces += [text[last:span.start], self.tokens[text[span.start:span.end]]]
            found[span.entity] += 1
            last = span.end
        redacted = "".join([*pieces, text[last:]])
        for value, token in sorted(self.tokens.items(), key=lambda item: -len(item[0])):
            entity = _TOKEN.match(token)[1]  # type: ignore[index]
            if value in redacted and entity not in keep:  # a value found once is never sent in clear again
                found[entity] += redacted.count(value)
                redacted = redacted.replace(value, token)
        return redacted, found

    def restore(self, text: str) -> str:
        """`text` with each token this conversation issued put back to its value, also where a
        model dropped the token's angle brackets (`PERSON_1`)."""
        return _LOOSE_TOKEN.sub(lambda m: self.values.get(f"<{m[1]}>", m[0]), text)
