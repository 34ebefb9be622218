"""Personal data in text, found before it crosses a privacy zone: Presidio's pattern recognizers
(email, phone, credit card, IBAN, US SSN, IP, dates), run without an NLP model (spaCy models are
not on PyPI), and tierlink's own patterns for what those miss (street addresses, names after a
title or an introduction). Nothing is fetched at run time: e-mail domains are checked against
tldextract's bundled suffix list."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "DATE_TIME")
CONTEXTUAL = ("PERSON", "STREET_ADDRESS")
DEFAULT_ENTITIES = STRUCTURED + CONTEXTUAL
STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle|"
          r"Parkway|Pkwy|Square|Sq|Highway|Hwy|Trail|Alley|Row|Crescent|Close|Gardens|Hill|Park|View|Walk)")
ADDRESS_PATTERNS = (
    # 12 Oak Tree Road, Apt. 5, Springfield, IL 62704 (the tail up to a state and a ZIP is optional)
    rf"\b\d{{1,6}}[A-Z]?\s+(?:[A-Z][\w'.-]*\s+){{0,4}}{STREET}\b\.?(?:,?\s*(?:Apt|Suite|Ste|Unit|#)\.?\s*\w+)?"
    r"(?:,?\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)*)?(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?",
    # a number, a name, a unit: 6750 Koskikatu 25 Apt. 864 (no street word, but an apartment)
    r"\b\d{1,6}\s+[A-Z][\w'-]+(?:\s+[\w'-]+){0,3}\s+(?:Apt|Suite|Unit)\.?\s*\d+[A-Z]?",
    # continental: [number] Name [u.] number, and the lines after it down to a postcode
    r"\b(?:\d{1,6}\s+)?[^\W\d_]{3,}(?:\s(?:[^\W\d_]+\.?)){0,2}\s\d{1,4}[a-z]?\.?(?:,?\s+(?:Apt|Suite|apt|suite)\.?\s*\d+)?"
    r"(?=\s*(?:\n|,|$))(?:\n[^\n]{0,40}){0,4}?\s\d{4,6}\b",
    r"\b(?:PSC|Unit|USNS|USNV|USS|USCGC)\s+\d{3,5},?\s+Box\s+\d{3,5}\s+(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}",
)
CARD_DIGITS = r"\b(?:\d[ -]?){11,18}\d\b"
PHONE = r"\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{1,4}\)?){1,5}(?:\s?x\d{1,5})?"
PHONE_CUES = r"(?:[Pp]hone|[Mm]obile|[Dd]esk|[Ff]ax|[Tt]el|[Cc]ell|call me on|call me at|answering at|registered|reach me at)"
PHONE_PATTERNS = (rf"(?<={PHONE_CUES}:?\s){PHONE}", rf"(?<={PHONE_CUES}:\n){PHONE}",
                  rf"(?:^|(?<=\\,)){PHONE}(?=\s?-?(?:[Oo]ffice|[Ff]ax|[Mm]obile|[Hh]ome)\b)")
SSN_PATTERNS = (r"(?<=(?:[Ss]ocial [Ss]ecurity [Nn]umber|SSN|ssn)(?: is|:)?\s)\d{3}-?\d{2}-?\d{4}\b",)
WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE_PATTERNS = (rf"\b{WEEKDAY}\b", rf"\b{MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?\b",
                 r"(?<=\b(?:in|of|since|until|from|a|an|year|founded in|born in)\s)(?:19|20)\d{2}\b")
UPPER, LOWER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽ", "a-zß-öø-ÿāăąćčďđēėęěğīįıķĺļľłńņňōőœŕřśşšţťūůűųźżž"
NAME = rf"[{UPPER}][{LOWER}]+(?:[-'][{UPPER}]?[{LOWER}]+)?"
FULL_NAME = rf"{NAME}(?:[ \t]+[{UPPER}](?:\.|(?=[ \t])))?(?:[ \t]+{NAME}){{0,2}}"  # an initial only before a space
CUES = (r"name is|named|[Nn]ame:|I am|I'm|This is|Dear|Hi|Hello|Sincerely|Regards|under|under my \w+'s name|kid|son|"
        r"daughter|wife|husband|partner|friend|[Dd]irected [Bb]y:\s*|features|contact|[Cc]all|ask|tell|cc|Mr\.?|Mrs\.?|Ms\.?|"
        r"Dr\.?|Prof\.?|[Aa]ddress:")
PERSON_PATTERNS = (
    rf"(?<=(?:{CUES})[ \t]){FULL_NAME}",
    rf"\b{NAME}[ \t]+(?:[{UPPER}]\.?[ \t]+)?{NAME}(?=(?:'s|,? (?:is|was|has|had|and|said|wrote|lives|works|called|asked|needs|will|"
    rf"listed|concert|the)\b))",
    rf"^{NAME}(?:[ \t]+[{UPPER}]\.?)?[ \t]+{NAME}(?:[ \t]+{NAME})?$",  # a line that is only a name (a letter's or a form's)
)
CASE_SENSITIVE = 8 | 16  # re.MULTILINE | re.DOTALL, without Presidio's default IGNORECASE (names need their capitals)


@dataclass(frozen=True)
class Span:
    """One piece of personal data: its type, where it is, how sure the recognizer was."""

    entity: str
    start: int
    end: int
    score: float


class PiiDetector:
    """Presidio's analyzer with pattern recognizers only, plus tierlink's contextual patterns."""

    def __init__(self, entities: tuple[str, ...] = DEFAULT_ENTITIES, min_score: float = 0.3) -> None:
        self.entities = entities
        self.min_score = min_score

    @cached_property
    def _analyzer(self) -> Any:
        """Built on first use: Presidio's imports take a second, which an import of tierlink should not."""
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry

        _LuhnRecognizer = _luhn_recognizer_class(PatternRecognizer)  # noqa: N806
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            DateRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )

        own = [
            _LuhnRecognizer("CREDIT_CARD", patterns=[Pattern("digits", CARD_DIGITS, 0.5)]),
            PatternRecognizer("PHONE_NUMBER", patterns=[Pattern(f"phone {i}", p, 0.5) for i, p in enumerate(PHONE_PATTERNS)],
                              global_regex_flags=CASE_SENSITIVE),
            PatternRecognizer("US_SSN", patterns=[Pattern("ssn after its name", SSN_PATTERNS[0], 0.9)],
                              global_regex_flags=CASE_SENSITIVE),
            PatternRecognizer("DATE_TIME", patterns=[Pattern(f"date {i}", p, 0.5) for i, p in enumerate(DATE_PATTERNS)],
                              global_regex_flags=CASE_SENSITIVE),
            PatternRecognizer("STREET_ADDRESS", patterns=[Pattern(f"address {i}", p, 0.6) for i, p in enumerate(ADDRESS_PATTERNS)],
                              global_regex_flags=CASE_SENSITIVE),
            PatternRecognizer("PERSON", patterns=[Pattern(f"person {i}", p, 0.5) for i, p in enumerate(PERSON_PATTERNS)],
                              global_regex_flags=CASE_SENSITIVE),
        ]
        registry = RecognizerRegistry(recognizers=[
            _offline_email_recognizer(), PhoneRecognizer(supported_regions=("US", "UK", "DE", "FR", "IN", "AU", "CA")),
            CreditCardRecognizer(), IbanRecognizer(), UsSsnRecognizer(), IpRecognizer(), DateRecognizer(), *own])
        return AnalyzerEngine(registry=registry, nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}]),
                              supported_languages=["en"])

    def find(self, text: str) -> list[Span]:
        """The personal data in `text`, overlaps resolved in favour of the longer, surer span."""
        if not text.strip():
            return []
        found = self._analyzer.analyze(text=text, language="en", entities=list(self.entities), score_threshold=self.min_score)
        return _without_overlaps([Span(r.entity_type, r.start, r.end, r.score) for r in found])


def _without_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start) * s.score, s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def luhn_valid(number: str) -> bool:
    """The card-number checksum (ISO/IEC 7812): every second digit from the right doubled."""
    digits = [int(c) for c in number if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return len(digits) >= 12 and total % 10 == 0


def _luhn_recognizer_class(base: Any) -> Any:
    """A pattern recognizer that keeps only numbers passing the Luhn check (any issuer prefix)."""

    class LuhnRecognizer(base):  # type: ignore[misc, valid-type]
        def validate_result(self, pattern_text: str) -> bool:
            return luhn_valid(pattern_text)

    return LuhnRecognizer


def _offline_email_recognizer() -> Any:
    """Presidio's e-mail recognizer with its domain check on the bundled suffix list (no fetch)."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return bool(extract(pattern_text).fqdn)

    return OfflineEmailRecognizer()
