"""Per-zone rules: for each privacy zone a request may be sent to, what personal data may go there
(in clear, as tokens, or not at all) and whether it may receive requests marked private. One rule
set per deployment; zones without a rule of their own get the default."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tierlink.trust.pii import DEFAULT_ENTITIES
from tierlink.trust.pseudonyms import Pseudonymiser

PiiAction = Literal["off", "pseudonymise", "refuse"]


def yaml_off(value: object) -> object:
    """YAML reads a bare `off` as false: take it as the word meant."""
    return "off" if value is False else value


def known_entities(keep: frozenset[str]) -> frozenset[str]:
    """Entity types the detector knows; a misspelt one would silently keep nothing."""
    unknown = sorted(keep - set(DEFAULT_ENTITIES))
    if unknown:
        raise ValueError(f"unknown entity type(s) {', '.join(unknown)}: use {', '.join(DEFAULT_ENTITIES)}")
    return keep


class ZoneRule(BaseModel):
    """What may leave the device for one zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pii: PiiAction = Field("off", description=(
        "'off': sent as written; 'pseudonymise': personal data goes as tokens (<PERSON_1>) and the answer is "
        "restored on the device; 'refuse': a turn carrying personal data is never sent there (another zone or "
        "the device answers)."))
    keep: frozenset[str] = Field(frozenset(), description=(
        f"Entity types that may go in clear even when pseudonymising or refusing (of {', '.join(DEFAULT_ENTITIES)})."))
    private: bool = Field(False, description="May receive requests and attachments marked private.")

    _off = field_validator("pii", mode="before")(yaml_off)

    _known = field_validator("keep")(known_entities)

    @property
    def detects(self) -> bool:
        """Does this rule need the detector to run on what is sent?"""
        return self.pii != "off"


class ZoneRules(BaseModel):
    """The rule for every zone other than the device's own (which everything may reach)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_zone: str = "device"
    default: ZoneRule = ZoneRule()
    zones: dict[str, ZoneRule] = {}

    def rule_for(self, zone: str) -> ZoneRule | None:
        """The rule for sending to `zone`; None for the device's own zone (nothing leaves it)."""
        if zone == self.device_zone:
            return None
        return self.zones.get(zone, self.default)

    @property
    def private_zones(self) -> frozenset[str]:
        """Zones that may receive private content: the device's own, and those named whose rule says so
        (the default rule's `private` is not used: private content never goes to an unnamed zone)."""
        named = {zone for zone, rule in self.zones.items() if rule.private}
        return frozenset({self.device_zone, *named})

    @property
    def detects(self) -> bool:
        """Does any zone's rule need personal data found?"""
        return self.default.detects or any(rule.detects for rule in self.zones.values())


def session_rules(rules: ZoneRules | None, pseudonymiser: Pseudonymiser | None, device_zone: str
                  ) -> tuple[ZoneRules | None, Pseudonymiser | None]:
    """The session's zone rules and pseudonymiser: a pseudonymiser alone means 'pseudonymise for
    every other zone' (the library's short form); rules that detect get a pseudonymiser."""
    if rules is None and pseudonymiser is not None:
        rules = ZoneRules(device_zone=device_zone, default=ZoneRule(pii="pseudonymise"))
    if rules is not None and rules.detects and pseudonymiser is None:
        pseudonymiser = Pseudonymiser()
    return rules, pseudonymiser
