"""Turn a validated configuration into live objects: nodes, links and ready endpoints.

Endpoints on another node than the device are wrapped in a LinkedEndpoint so every call pays
the link and is written to the deployment's ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tierlink.config.load import (
    check_config,
    configured_profile,
    device_endpoint,
    find_link,
    outcome_path,
)
from tierlink.config.schema import (
    EndpointConfig,
    LinkConfig,
    LlamaCppConfig,
    OpenAIConfig,
    ReplayConfig,
    TierlinkConfig,
)
from tierlink.core.budget import Budget
from tierlink.core.errors import ConfigError
from tierlink.core.ledger import Ledger
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.outcome_table import OutcomeTable
from tierlink.endpoints.profile import EndpointProfile
from tierlink.endpoints.registry import endpoint_profiles
from tierlink.endpoints.replay import ReplayEndpoint
from tierlink.network.availability import AvailabilityTrace
from tierlink.network.clock import Clock, RealClock, VirtualClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.network.node import Node
from tierlink.network.registry import link_profiles
from tierlink.routing.policy import Policy, make_policy
from tierlink.routing.session import Session
from tierlink.trust.pseudonyms import Pseudonymiser


@dataclass
class Deployment:
    """Everything a session needs: endpoints by name (linked where remote), the clock, the ledger."""

    config: TierlinkConfig
    nodes: dict[str, Node]
    links: dict[str, Link]
    endpoints: dict[str, Endpoint]
    device: str
    clock: Clock
    ledger: Ledger = field(default_factory=Ledger)
    records: bool = True  # False: sessions charge only the sink they are given (a server's per-request record)

    def session(self, policy: Policy, budget: Budget | None = None, **kw: Any) -> Session:
        """A vertical session over these endpoints, each in its node's privacy zone, charging its
        calls to the deployment's ledger unless given another sink (`charges=`)."""
        zones = {name: self.nodes[spec.node].privacy_zone for name, spec in self.config.endpoints.items()}
        kw.setdefault("charges", self.ledger if self.records else None)
        rules = self.config.trust.rules(self.nodes[self.config.endpoints[self.device].node].privacy_zone)
        kw.setdefault("rules", rules)
        if rules.detects:  # one per conversation: a value keeps its token
            kw.setdefault("pseudonymiser", Pseudonymiser())
        return Session(self.endpoints, self.device, policy, budget, zones, **kw)

    def policy(self, name: str | None = None) -> Policy:
        """The configured policy (or `name`, without the config's parameters); a parameter naming
        an endpoint (llm-router's `router`, default: the device) becomes that endpoint."""
        chosen = name or self.config.policy.name
        params: dict[str, Any] = dict(self.config.policy.params) if chosen == self.config.policy.name else {}
        if chosen == "llm-router":
            params.setdefault("router", self.device)
        return make_policy(chosen, self.endpoints, **params)

    def linked(self, name: str, spec: EndpointConfig, config: TierlinkConfig | None = None) -> Endpoint:
        """The endpoint `spec` describes, behind its link from the device when it is elsewhere."""
        config = config or self.config
        endpoint = build_endpoint(name, spec)
        device_node = config.endpoints[self.device].node
        link_name = find_link(config, device_node, spec.node)
        if spec.node != device_node and link_name is not None:
            link = _oriented(self.links[link_name], device_node)
            endpoint = LinkedEndpoint(endpoint, link, self.clock, self.ledger if self.records else None)
        return endpoint

    def with_member(self, name: str, spec: EndpointConfig) -> tuple[TierlinkConfig, Endpoint]:
        """The configuration with endpoint `name` added, checked whole, and its endpoint (not yet
        installed: `install` does, once it has passed its health check)."""
        if name in self.config.endpoints:
            raise ConfigError("name", f"an endpoint named '{name}' is already here", "deregister it first, or pick another name")
        config = self.config.model_copy(update={"endpoints": {**self.config.endpoints, name: spec}})
        check_config(config)
        return config, self.linked(name, spec, config)

    def install(self, config: TierlinkConfig, name: str, endpoint: Endpoint) -> None:
        """Make a member built by `with_member` part of the deployment: sessions started from now on see it."""
        self.config = config
        self.endpoints[name] = endpoint

    def remove(self, name: str) -> Endpoint:
        """Take an endpoint out (never the device); sessions started from now on do not see it.
        Returned, for the caller to close once the turns already using it are done."""
        if name == self.device:
            raise ConfigError("name", f"'{name}' is the device endpoint, which every turn falls back to",
                              "deregister another endpoint; change the device in the config file")
        if name not in self.endpoints:
            raise ConfigError("name", f"no endpoint named '{name}'", f"use one of: {', '.join(self.endpoints)}")
        serve = self.config.serve
        fallback = None if serve.fallback is None else tuple(n for n in serve.fallback if n != name)
        self.config = self.config.model_copy(update={
            "endpoints": {n: spec for n, spec in self.config.endpoints.items() if n != name},
            "serve": serve.model_copy(update={"fallback": fallback})})
        return self.endpoints.pop(name)

    async def aclose(self) -> None:
        """Close every endpoint (HTTP clients, model memory); call once its sessions are done."""
        for endpoint in self.endpoints.values():
            await endpoint.aclose()


def build_deployment(config: TierlinkConfig, ledger: Ledger | None = None, record_transfers: bool = True) -> Deployment:
    """Instantiate the configuration; models load lazily on first use. A long-running server
    passes record_transfers=False: it keeps its own spend records (charges included), and the
    in-memory ledger would grow without bound."""
    check_config(config)
    ledger = ledger or Ledger()
    clock: Clock = VirtualClock() if config.mode == "simulated" else RealClock()
    nodes = {name: Node(name=name, tier=n.tier, zone=n.zone) for name, n in config.nodes.items()}
    links = {name: build_link(name, link) for name, link in config.links.items()}
    device = device_endpoint(config)
    deployment = Deployment(config, nodes, links, {}, device, clock, ledger, records=record_transfers)
    for name, spec in config.endpoints.items():
        deployment.endpoints[name] = deployment.linked(name, spec)
    return deployment


def build_link(name: str, spec: LinkConfig) -> Link:
    """The link from its named profile, any figure the config gives overriding the profile's."""
    base = link_profiles().require(spec.profile, f"links.{name}.profile")
    link = Link.from_profile(name, spec.a, spec.b, base, AvailabilityTrace(outages=spec.outages))
    overrides = {
        k: v
        for k, v in {
            "up_mbps": spec.up_mbps,
            "down_mbps": spec.down_mbps,
            "rtt_ms": spec.rtt_ms,
            "loss": spec.loss,
        }.items()
        if v is not None
    }
    return link.model_copy(update=overrides) if overrides else link


def build_endpoint(name: str, spec: EndpointConfig) -> Endpoint:
    """The endpoint a configuration entry describes, by its kind's builder."""
    return ENDPOINT_BUILDERS[spec.kind](name, spec, resolve_profile(name, spec))  # type: ignore[arg-type]


def catalogue_endpoint(model: str, option: str, node: str = "device", system: str | None = None,
                       adapter: Path | None = None) -> Endpoint:
    """A catalogue model (`tierlink models`) in process, named by its short name; `option` is
    what an unknown model is reported against."""
    entry = model_catalogue().require(model, option)
    return build_endpoint(entry.short, LlamaCppConfig(kind="llamacpp", node=node, model=entry.name, adapter=adapter, system=system))


def _llamacpp(name: str, spec: LlamaCppConfig, profile: EndpointProfile) -> Endpoint:
    return LlamaCppEndpoint(name=name, profile=profile, node=spec.node, model=spec.model, model_path=spec.model_path,
                            prompt_format=spec.prompt_format, chat_format=spec.chat_format, n_ctx=spec.n_ctx,
                            n_threads=spec.n_threads, seed=spec.seed, adapter=spec.adapter,
                            system=spec.system)


def _openai(name: str, spec: OpenAIConfig, profile: EndpointProfile) -> Endpoint:
    return OpenAICompatEndpoint(name=name, base_url=str(spec.base_url), model=spec.model, profile=profile, node=spec.node,
                                api_key_env=spec.api_key_env, timeout_s=spec.timeout_s, max_retries=spec.max_retries,
                                max_retry_wait_s=spec.max_retry_wait_s, first_chunk_timeout_s=spec.first_chunk_timeout_s)


def _replay(name: str, spec: ReplayConfig, profile: EndpointProfile) -> Endpoint:
    table = OutcomeTable.from_path(outcome_path(spec.outcomes, f"endpoints.{name}.outcomes"))
    if spec.model not in table.models:
        raise ConfigError(f"endpoints.{name}.model", f"the outcome table has no records of model '{spec.model}'",
                          f"use one of: {', '.join(table.models)}")
    return ReplayEndpoint(name=name, table=table, model=spec.model, profile=profile, node=spec.node)


# one builder per endpoint kind (the kinds: config.schema.ENDPOINT_KINDS; a test keeps the two equal)
ENDPOINT_BUILDERS: Mapping[str, Callable[[str, Any, EndpointProfile], Endpoint]] = MappingProxyType(
    {"llamacpp": _llamacpp, "openai": _openai, "replay": _replay})


def resolve_profile(name: str, spec: EndpointConfig) -> EndpointProfile:
    """The endpoint's planning profile: inline, by registry name, or its catalogue model's."""
    profile = configured_profile(name, spec)
    if isinstance(profile, EndpointProfile):
        return profile
    return endpoint_profiles().require(profile, f"endpoints.{name}.profile")


def _oriented(link: Link, device_node: str) -> Link:
    """The link seen from the device: 'up' always means away from the device."""
    if link.a == device_node:
        return link
    return link.model_copy(
        update={"a": link.b, "b": link.a, "up_mbps": link.down_mbps, "down_mbps": link.up_mbps}
    )
