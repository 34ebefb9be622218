"""Turn pydantic validation errors into ConfigErrors that name the field and the fix."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from tierlink.config.schema import ENDPOINT_KINDS
from tierlink.core.errors import ConfigError

_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or check its spelling against the documented fields",
    "greater_than": "use a number above {gt}",
    "greater_than_equal": "use a number of at least {ge}",
    "less_than": "use a number below {lt}",
    "less_than_equal": "use a number of at most {le}",
    "literal_error": "use one of {expected}",
    "union_tag_invalid": "set kind to one of {expected_tags}",
    "union_tag_not_found": "add `kind:` with one of {kinds}",
    "url_parsing": "give a full URL such as http://127.0.0.1:8000/v1",
    "url_scheme": "use an http:// or https:// URL",
    "float_parsing": "write a plain number",
    "int_parsing": "write a whole number",
    "dict_type": "write a mapping (key: value lines)",
    "value_error": "see the problem above",
}


def config_error_from(exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first validation problem as a ConfigError; the others are listed in its message."""
    errors = exc.errors()
    first = _one(errors[0], prefix)
    if len(errors) > 1:
        others = "; ".join(str(_one(e, prefix)) for e in errors[1:4])
        first = ConfigError(first.field, first.problem, f"{first.fix}. Also: {others}")
    return first


def _one(error: ErrorDetails, prefix: str) -> ConfigError:
    parts = [str(p) for p in error["loc"] if p not in ENDPOINT_KINDS]
    field = ".".join([prefix, *parts] if prefix else parts) or "(top level)"
    context = dict(error.get("ctx") or {}) | {"kinds": ", ".join(ENDPOINT_KINDS)}
    template = _FIXES.get(error["type"], "correct the value")
    try:
        fix = template.format(**context)
    except KeyError:
        fix = template
    return ConfigError(field, error["msg"], fix)
