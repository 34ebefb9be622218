"""Load and check a configuration file, or build the default one that needs no file or key."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from pydantic import ValidationError

from tierlink.config.errors import config_error_from
from tierlink.config.schema import (
    HAND_SET_CASCADE,
    EndpointConfig,
    LinkConfig,
    LlamaCppConfig,
    NodeConfig,
    OpenAIConfig,
    PolicyConfig,
    ReplayConfig,
    TierlinkConfig,
)
from tierlink.core.errors import ConfigError
from tierlink.data import ROUTERARENA_MCQ, shipped
from tierlink.endpoints.model_catalogue import DEFAULT_MODEL, CatalogueModel, model_catalogue
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.network.registry import link_profiles
from tierlink.routing.policy import policy_names

BUILTIN_PREFIX = "builtin:"
DEFAULT_CLOUD_PROFILE = "gemini-2.0-flash"
DEFAULT_CLOUD_MODEL = "gemini-2.0-flash-001"


def default_config(device_model: str = DEFAULT_MODEL) -> TierlinkConfig:
    """An embedded model on the device (Gemma 3 270M unless named), a replayed real cloud model
    over 5G. No file, no key. The device endpoint is named by the model's short name ('gemma')."""
    model = model_catalogue().require(device_model, "--model")
    return TierlinkConfig(
        nodes={"device": NodeConfig(tier="device"), "cloud": NodeConfig(tier="cloud")},
        links={"device-cloud": LinkConfig(a="device", b="cloud", profile="5g")},
        endpoints={
            model.short: LlamaCppConfig(kind="llamacpp", node="device", model=model.name),
            "cloud": ReplayConfig(
                kind="replay",
                node="cloud",
                outcomes=BUILTIN_PREFIX + Path(ROUTERARENA_MCQ).stem,
                model=DEFAULT_CLOUD_MODEL,
                profile=DEFAULT_CLOUD_PROFILE,
            ),
        },
        device=model.short,
        policy=PolicyConfig(name="cascade", params=dict(model.cascade) or dict(HAND_SET_CASCADE)),
    )


def config_or_default(path: Path | None, check_endpoints: bool = False,
                      device_model: str = DEFAULT_MODEL) -> TierlinkConfig:
    """The file's configuration, or the embedded default when no file is given (the CLI's --config)."""
    return load_config(path, check_endpoints) if path else default_config(device_model)


def load_config(path: Path, check_endpoints: bool = False) -> TierlinkConfig:
    """Parse, validate and cross-check a YAML file; every problem is a ConfigError."""
    if not path.exists():
        raise ConfigError("--config", f"file {path} does not exist", "give the path of a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", f"{path} is not valid YAML: {exc}", "fix the YAML syntax") from exc
    if not isinstance(raw, dict):
        raise ConfigError("(file)", f"{path} must hold a mapping", "start with `nodes:` and `endpoints:`")
    try:
        config = TierlinkConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from(exc) from exc
    check_config(config)
    if check_endpoints:
        check_reachable(config)
    return config


def check_config(config: TierlinkConfig) -> None:
    """Cross-section rules: references exist, profiles are known, files are on disk."""
    endpoints = endpoint_profiles()
    links = link_profiles()
    for name, link in config.links.items():
        for end in ("a", "b"):
            _known_node(config, getattr(link, end), f"links.{name}.{end}")
        links.require(link.profile, f"links.{name}.profile")
    for name, endpoint in config.endpoints.items():
        _known_node(config, endpoint.node, f"endpoints.{name}.node")
        if isinstance(endpoint, LlamaCppConfig):
            _check_llamacpp(name, endpoint)
        profile = configured_profile(name, endpoint)
        if isinstance(profile, str):
            endpoints.require(profile, f"endpoints.{name}.profile")
        if isinstance(endpoint, ReplayConfig):
            outcome_path(endpoint.outcomes, f"endpoints.{name}.outcomes")
    if config.policy.name not in policy_names():
        raise ConfigError("policy.name", f"unknown policy '{config.policy.name}'",
                          f"use one of: {', '.join(policy_names())}")
    for index, name in enumerate(config.serve.fallback or ()):
        if name not in config.endpoints:
            raise ConfigError(f"serve.fallback[{index}]", f"unknown endpoint '{name}'",
                              f"use endpoint names from `endpoints:` ({', '.join(config.endpoints)})")
    device = device_endpoint(config)
    device_node = config.endpoints[device].node
    for name, endpoint in config.endpoints.items():
        if endpoint.node != device_node and find_link(config, device_node, endpoint.node) is None:
            raise ConfigError(
                f"endpoints.{name}.node",
                f"no link between the device node '{device_node}' and node '{endpoint.node}'",
                f"add a link under `links:` with a: {device_node} and b: {endpoint.node}",
            )
    _check_trust(config, device_node)


def device_endpoint(config: TierlinkConfig) -> str:
    """Name of the endpoint the user talks to."""
    if config.device is not None:
        if config.device not in config.endpoints:
            raise ConfigError(
                "device",
                f"unknown endpoint '{config.device}'",
                f"use one of: {', '.join(config.endpoints)}",
            )
        return config.device
    for name, endpoint in config.endpoints.items():
        if config.nodes[endpoint.node].tier == "device":
            return name
    raise ConfigError("device", "no endpoint runs on a device-tier node", "set `device:` to an endpoint name")


def find_link(config: TierlinkConfig, a: str, b: str) -> str | None:
    """Name of the link joining nodes a and b (either direction)."""
    for name, link in config.links.items():
        if {link.a, link.b} == {a, b}:
            return name
    return None


def outcome_path(spec: str, field: str) -> Path:
    """Resolve 'builtin:NAME' or a filesystem path to an existing outcome CSV."""
    if spec.startswith(BUILTIN_PREFIX):
        name = spec.removeprefix(BUILTIN_PREFIX) + ".csv"
        path = shipped(name)
        if not path.is_file():
            raise ConfigError(field, f"no built-in outcome table '{spec}'", "use builtin:routerarena_mcq or a path")
        return path
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ConfigError(field, f"outcome table {path} does not exist", "give the path of a canonical outcome CSV")
    return path


def check_reachable(config: TierlinkConfig, timeout_s: float = 3.0) -> None:
    """GET {base_url}/models for every OpenAI endpoint; an unreachable one is a ConfigError."""
    for name, endpoint in config.endpoints.items():
        if not isinstance(endpoint, OpenAIConfig):
            continue
        url = str(endpoint.base_url).rstrip("/") + "/models"
        try:
            httpx.get(url, timeout=timeout_s)
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"endpoints.{name}.base_url",
                f"{endpoint.base_url} is unreachable ({type(exc).__name__}: {exc})",
                "start the server, or correct the URL (it usually ends in /v1)",
            ) from exc


def device_cascade(config: TierlinkConfig) -> dict[str, float | int | str | bool | None]:
    """Cascade thresholds for the device: calibrated ones for a catalogue model, else a hand-set log-prob cut."""
    name = device_endpoint(config)
    spec = config.endpoints[name]
    entry = catalogue_entry(name, spec) if isinstance(spec, LlamaCppConfig) else None
    return dict(entry.cascade) if entry is not None and entry.cascade else dict(HAND_SET_CASCADE)


def catalogue_entry(name: str, endpoint: LlamaCppConfig) -> CatalogueModel | None:
    """The catalogue model an embedded endpoint runs; None for a model file of your own."""
    if endpoint.model_path is not None:
        return None
    return model_catalogue().require(endpoint.model or DEFAULT_MODEL, f"endpoints.{name}.model")


def _check_llamacpp(name: str, endpoint: LlamaCppConfig) -> None:
    """A named model is in the catalogue; a model file exists; a file has a profile to plan with."""
    if endpoint.model is not None and endpoint.model_path is not None:
        raise ConfigError(f"endpoints.{name}.model_path", "both `model` and `model_path` are given",
                          "keep `model` (a catalogue name) or `model_path` (a GGUF file of your own), not both")
    if endpoint.model_path is None:
        catalogue_entry(name, endpoint)  # an unknown name is a ConfigError here
        return
    if not endpoint.model_path.is_file():
        raise ConfigError(f"endpoints.{name}.model_path", f"model file {endpoint.model_path} does not exist",
                          "give the path of a .gguf file, or use `model:` with a catalogue name (`tierlink models`)")
    if endpoint.profile is None:
        raise ConfigError(f"endpoints.{name}.profile", "a model file has no catalogue profile to plan with",
                          "name a profile (`tierlink profiles`) or give one inline")


def configured_profile(name: str, endpoint: EndpointConfig) -> str | EndpointProfile:
    """The endpoint's profile as configured, or, for an embedded model, its catalogue entry's."""
    if endpoint.profile is not None:
        return endpoint.profile
    entry = catalogue_entry(name, endpoint) if isinstance(endpoint, LlamaCppConfig) else None
    if entry is None:
        raise ConfigError(f"endpoints.{name}.profile", "this endpoint has no catalogue model to take a profile from",
                          "name a profile (`tierlink profiles`) or give one inline")
    return entry.profile


def node_zone(config: TierlinkConfig, node: str) -> str:
    """A node's privacy zone: its configured zone, else its tier name."""
    spec = config.nodes[node]
    return spec.zone or spec.tier


def _check_trust(config: TierlinkConfig, device_node: str) -> None:
    """Each zone rule names a zone some node is in, other than the device's own."""
    known = {node_zone(config, node) for node in config.nodes}
    own = node_zone(config, device_node)
    for zone in config.trust.zones:
        if zone == own:
            raise ConfigError(f"trust.zones.{zone}", f"'{zone}' is the device's own zone: nothing leaves the device to it",
                              "remove this rule; rules are for the zones a request is sent to")
        if zone not in known:
            raise ConfigError(f"trust.zones.{zone}", f"no node is in zone '{zone}'",
                              f"use a zone of `nodes:` ({', '.join(sorted(known - {own}))}); a node's zone is its `zone`, else its tier")


def _known_node(config: TierlinkConfig, node: str, field: str) -> None:
    if node not in config.nodes:
        raise ConfigError(field, f"unknown node '{node}'", f"use one of: {', '.join(config.nodes)} or add it under `nodes:`")
