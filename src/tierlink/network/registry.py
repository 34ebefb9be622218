"""Built-in link profiles (wired, Wi-Fi, 5G, 4G, satellite, offline), sourced in the YAML."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tierlink.endpoints.registry import Registry, load_registry
from tierlink.network.link_profile import LinkProfile


def link_profiles() -> Registry[LinkProfile]:
    """The built-in link profiles."""
    path = Path(str(files("tierlink.network").joinpath("link_profiles.yaml")))
    return load_registry("link", path, LinkProfile)
