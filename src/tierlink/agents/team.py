"""Agents placed on nodes, and the links between those nodes.

An agent is an endpoint, the node it runs on and a role. Two agents on the same node exchange
messages in memory (no link time); agents on different nodes use the link configured for that
pair of nodes, or the default link for their pair of tiers (device-device Wi-Fi, device-edge
Wi-Fi, anything-cloud 5G from a device or wired between edge and cloud or within the cloud).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tierlink.agents.topology import Topology
from tierlink.core.errors import ConfigError
from tierlink.endpoints.base import Endpoint
from tierlink.endpoints.profile import Tier
from tierlink.network.link import Link
from tierlink.network.node import Node
from tierlink.network.registry import link_profiles

# Which built-in link profile joins two tiers when no link is configured for a node pair.
DEFAULT_LINKS: dict[frozenset[str], str] = {
    frozenset({"device"}): "wifi",
    frozenset({"device", "edge"}): "wifi",
    frozenset({"device", "cloud"}): "5g",
    frozenset({"edge"}): "wired",
    frozenset({"edge", "cloud"}): "wired",
    frozenset({"cloud"}): "wired",
}


@dataclass(frozen=True)
class Agent:
    """One independent LLM on one node, with a role in the team."""

    name: str
    endpoint: Endpoint
    node: Node
    role: str = "solver"


@dataclass
class Team:
    """Agents in team order plus the links between their nodes (by node-name pair)."""

    agents: Sequence[Agent]
    links: dict[frozenset[str], Link] = field(default_factory=dict)
    _defaults: dict[frozenset[str], Link] = field(default_factory=dict, init=False, repr=False, compare=False)
    _profiles: Any = field(default=None, init=False, repr=False, compare=False)  # the link registry, read once

    def __post_init__(self) -> None:
        names = [a.name for a in self.agents]
        if not names:
            raise ConfigError("agents", "a team needs at least one agent", "add agents")
        if len(set(names)) != len(names):
            raise ConfigError("agents", "agent names repeat", "give every agent a distinct name")
        nodes: dict[str, Node] = {}
        for agent in self.agents:
            known = nodes.setdefault(agent.node.name, agent.node)
            if known != agent.node:
                raise ConfigError(f"agents.{agent.name}.node", f"node '{agent.node.name}' is described twice differently",
                                  "describe each node once (same tier and zone)")

    @property
    def names(self) -> tuple[str, ...]:
        """Agent names in team order, as topologies and error messages list them."""
        return tuple(a.name for a in self.agents)

    def agent(self, name: str) -> Agent:
        """The agent called `name`; a ConfigError listing the names if there is none."""
        for agent in self.agents:
            if agent.name == name:
                return agent
        raise ConfigError("agents", f"no agent named '{name}'", f"use one of: {', '.join(self.names)}")

    def by_role(self, role: str) -> tuple[Agent, ...]:
        """Agents with `role` in team order (empty if none), e.g. a debate's judge."""
        return tuple(a for a in self.agents if a.role == role)

    def link(self, sender: str, receiver: str) -> Link | None:
        """The link a message from `sender` to `receiver` crosses; None on the same node."""
        a, b = self.agent(sender).node, self.agent(receiver).node
        if a.name == b.name:
            return None
        pair = frozenset({a.name, b.name})
        configured = self.links.get(pair)
        if configured is not None:
            return configured
        if pair not in self._defaults:  # built once a pair, from link profiles read once (YAML)
            self._profiles = self._profiles or link_profiles()
            self._defaults[pair] = default_link(a, b, self._profiles)
        return self._defaults[pair]


def lead_and_workers(team: Team, topology: Topology, lead_role: str, example: str) -> tuple[Agent, list[Agent]]:
    """The one agent with `lead_role` and the workers it can reach over `topology`, or a
    ConfigError saying which role or edges are missing (`example`: a topology that works)."""
    leads = team.by_role(lead_role)
    if len(leads) != 1:
        raise ConfigError("agents", f"this pattern needs exactly one agent with role '{lead_role}'", f"set role: {lead_role} on one agent")
    lead = leads[0]
    workers = [w for w in team.by_role("worker") if topology.has_edge(lead.name, w.name)]
    if not workers:
        raise ConfigError("topology", f"no worker receives messages from the {lead_role} {lead.name}",
                          f"give agents role: worker and edges {lead_role} -> worker (e.g. {example})")
    return lead, workers


def default_link(a: Node, b: Node, profiles: Any = None) -> Link:
    """The built-in link for two tiers; 'up' is from the lower tier (device < edge < cloud)."""
    order: dict[Tier, int] = {"device": 0, "edge": 1, "cloud": 2}
    low, high = sorted((a, b), key=lambda n: (order[n.tier], n.name))
    profile = DEFAULT_LINKS[frozenset({low.tier, high.tier})]
    return Link.from_profile(f"{low.name}<->{high.name} ({profile})", low.name, high.name, (profiles or link_profiles())[profile])
