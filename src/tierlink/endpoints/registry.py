"""Profile registry: sourced figures for real devices, edge servers and cloud models.

A plain mapping loaded from `profiles.yaml` (every entry cites its source there), in the
style of TMO's device registry: an unknown name lists the known ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel

from tierlink.core.errors import ConfigError
from tierlink.endpoints.profile import EndpointProfile

P = TypeVar("P", bound=BaseModel)


class Registry(Mapping[str, P]):
    """Read-only name -> profile mapping with helpful errors."""

    def __init__(self, kind: str, profiles: dict[str, P]) -> None:
        self.kind = kind
        self._profiles = profiles

    def __getitem__(self, name: str) -> P:
        try:
            return self._profiles[name]
        except KeyError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._profiles)

    def __len__(self) -> int:
        return len(self._profiles)

    def require(self, name: str, field: str) -> P:
        """The entry called `name`, or a ConfigError naming `field` and the known names."""
        if name not in self._profiles:
            raise ConfigError(field, f"unknown {self.kind} '{name}'", self.fix())
        return self._profiles[name]

    def fix(self) -> str:
        """How to correct an unknown name: the known ones."""
        return f"use one of: {', '.join(sorted(self._profiles))}"


def load_registry(kind: str, path: Path, model: type[P]) -> Registry[P]:
    """Load `profiles:` entries of `model` from a YAML file."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["profiles"]
    return Registry(f"{kind} profile", {entry["name"]: model(**entry) for entry in entries})


def endpoint_profiles() -> Registry[EndpointProfile]:
    """The built-in endpoint profiles (devices, edge servers, cloud models)."""
    path = Path(str(files("tierlink.endpoints").joinpath("profiles.yaml")))
    return load_registry("endpoint", path, EndpointProfile)
