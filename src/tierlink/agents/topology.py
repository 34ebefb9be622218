"""Who hears whom: a directed graph over agent names.

An edge (a, b) means a's messages reach b (b reads a). The factories build the topologies the
paper compares; `parse_topology` reads the CLI's `full`, `star:HUB`, `chain`, `ring`,
`tree:BRANCHING`, `sparse:DEGREE[:SEED]`, `hybrid:HUB:PEERS` specs. A topology never changes in place: pruning
returns a new one.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import networkx as nx

from tierlink.core.errors import ConfigError

Edge = tuple[str, str]


class Topology:
    """A directed communication graph over a fixed set of agent names."""

    def __init__(self, names: Sequence[str], edges: Iterable[Edge], kind: str = "custom") -> None:
        if len(set(names)) != len(names):
            raise ConfigError("agents", "agent names repeat", "give every agent a distinct name")
        graph = nx.DiGraph()
        graph.add_nodes_from(names)
        for sender, receiver in edges:
            unknown = [n for n in (sender, receiver) if n not in graph]
            if unknown:
                raise ConfigError("topology", f"edge ({sender}, {receiver}) names unknown agent {unknown[0]}",
                                  f"use agent names from: {', '.join(names)}")
            if sender == receiver:
                raise ConfigError("topology", f"self-loop on {sender}", "an agent always sees its own answer; drop the edge")
            graph.add_edge(sender, receiver)
        self.graph: nx.DiGraph = nx.freeze(graph)
        self.names = tuple(names)
        self.kind = kind

    def readers(self, name: str) -> tuple[str, ...]:
        """Agents that receive `name`'s messages."""
        return tuple(self.graph.successors(name))

    def sources(self, name: str) -> tuple[str, ...]:
        """Agents whose messages `name` reads (its in-neighbours), in team order."""
        found = set(self.graph.predecessors(name))
        return tuple(n for n in self.names if n in found)

    @property
    def edges(self) -> tuple[Edge, ...]:
        """Every (sender, receiver) edge: what pruning ranks and removes."""
        return tuple(self.graph.edges())

    def has_edge(self, sender: str, receiver: str) -> bool:
        """May `sender` message `receiver`? Patterns check before every send."""
        return bool(self.graph.has_edge(sender, receiver))

    def without(self, edges: Iterable[Edge]) -> Topology:
        """A copy with `edges` removed (pruning)."""
        drop = set(edges)
        return Topology(self.names, [e for e in self.edges if e not in drop], kind=f"{self.kind} (pruned)")

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"Topology({self.kind}, {len(self.names)} agents, {len(self.edges)} edges)"


def _both_ways(pairs: Iterable[Edge]) -> list[Edge]:
    return [edge for a, b in pairs for edge in ((a, b), (b, a))]


def full(names: Sequence[str]) -> Topology:
    """Everyone reads everyone: N(N-1) edges."""
    return Topology(names, [(a, b) for a in names for b in names if a != b], "full")


def star(names: Sequence[str], hub: str | None = None) -> Topology:
    """A hub exchanges with every other agent; the others do not talk to each other."""
    centre = hub or names[0]
    if centre not in names:
        raise ConfigError("topology", f"star hub '{centre}' is not an agent", f"use one of: {', '.join(names)}")
    return Topology(names, _both_ways((centre, n) for n in names if n != centre), f"star:{centre}")


def chain(names: Sequence[str]) -> Topology:
    """Neighbours on a line exchange both ways."""
    return Topology(names, _both_ways(zip(names, names[1:], strict=False)), "chain")


def ring(names: Sequence[str]) -> Topology:
    """A chain closed into a cycle (three or more agents)."""
    pairs = list(zip(names, names[1:], strict=False))
    if len(names) > 2:
        pairs.append((names[-1], names[0]))
    return Topology(names, _both_ways(pairs), "ring")


def tree(names: Sequence[str], branching: int = 2) -> Topology:
    """A complete tree in team order (the first agent is the root); parent and child exchange."""
    if branching < 1:
        raise ConfigError("topology", f"tree branching {branching}", "use a branching factor of 1 or more")
    return Topology(names, _both_ways((names[(i - 1) // branching], names[i]) for i in range(1, len(names))),
                    f"tree:{branching}")


def sparse(names: Sequence[str], degree: int = 2, seed: int = 0) -> Topology:
    """Each agent reads `degree` others: its ring neighbour (so the graph stays connected) and
    the rest drawn at random, reproducibly for a seed (sparse debate)."""
    n = len(names)
    if not 1 <= degree <= max(1, n - 1):
        raise ConfigError("topology", f"sparse degree {degree} with {n} agents", f"use a degree from 1 to {max(1, n - 1)}")
    rng = random.Random(seed)
    edges: list[Edge] = []
    for i, receiver in enumerate(names):
        if n == 1:
            break
        chosen = {names[(i - 1) % n]}
        others = [s for s in names if s != receiver and s not in chosen]
        chosen.update(rng.sample(others, degree - 1))
        edges.extend((sender, receiver) for sender in names if sender in chosen)
    return Topology(names, edges, f"sparse:{degree}")


def hybrid(names: Sequence[str], hub: str | None = None, peers: str = "ring") -> Topology:
    """A hub (e.g. a cloud supervisor) exchanging with every other agent, which also exchange
    among themselves over a `peers` topology (ring, chain or full): vertical plus horizontal."""
    centre = hub or names[0]
    others = [n for n in names if n != centre]
    among = {"ring": ring, "chain": chain, "full": full}
    if peers not in among:
        raise ConfigError("topology", f"hybrid peers '{peers}'", "use ring, chain or full")
    edges = [*star(names, centre).edges, *among[peers](others).edges]
    return Topology(names, edges, f"hybrid:{centre}:{peers}")


def from_edges(names: Sequence[str], edges: Iterable[Edge]) -> Topology:
    """A 'custom' topology from explicit edges (unknown names and self-loops are errors)."""
    return Topology(names, edges, "custom")


def parse_topology(spec: str, names: Sequence[str]) -> Topology:
    """`full`, `star[:HUB]`, `chain`, `ring`, `tree[:BRANCHING]`, `sparse[:DEGREE[:SEED]]`,
    `hybrid[:HUB[:PEERS]]`."""
    kind, _, rest = spec.partition(":")
    args = [a for a in rest.split(":") if a] if rest else []
    try:
        if kind == "full" and not args:
            return full(names)
        if kind == "star" and len(args) <= 1:
            return star(names, args[0] if args else None)
        if kind == "chain" and not args:
            return chain(names)
        if kind == "ring" and not args:
            return ring(names)
        if kind == "tree" and len(args) <= 1:
            return tree(names, int(args[0]) if args else 2)
        if kind == "sparse" and len(args) <= 2:
            return sparse(names, int(args[0]) if args else 2, int(args[1]) if len(args) > 1 else 0)
        if kind == "hybrid" and len(args) <= 2:
            return hybrid(names, args[0] if args else None, args[1] if len(args) > 1 else "ring")
    except ValueError:
        pass
    raise ConfigError("topology", f"cannot read '{spec}'",
                      "use full, star[:HUB], chain, ring, tree[:BRANCHING], sparse[:DEGREE[:SEED]] or hybrid[:HUB[:PEERS]]")
