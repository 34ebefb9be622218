"""The help tag a self-routing device model ends its answer with when it needs the cloud
(Fang et al., arXiv 2509.24050): the `self-route` policy reads it, the trainer rewards it."""

from __future__ import annotations

import re

HELP_TAG = "<unknown> I need external assistance </unknown>"
_TAG = re.compile(r"<unknown>(?:(?!<unknown>).)*?</unknown>\s*$", re.DOTALL)  # the last tag only


def asks_for_help(text: str) -> bool:
    """Does the answer end with the help tag (any words between the tags, trailing space allowed)?"""
    return _TAG.search(text) is not None


def without_help_tag(text: str) -> str:
    """The answer with a trailing help tag removed."""
    return _TAG.sub("", text).rstrip()
