"""Topologies: edge counts and shapes of every factory, spec parsing, pruning, clear errors."""

from __future__ import annotations

import networkx as nx
import pytest

from tierlink.agents.topology import (
    chain,
    from_edges,
    full,
    parse_topology,
    ring,
    sparse,
    star,
    tree,
)
from tierlink.core.errors import ConfigError

NAMES = tuple(f"a{i}" for i in range(6))


def test_factories_have_the_expected_edges() -> None:
    n = len(NAMES)
    assert len(full(NAMES).edges) == n * (n - 1)
    hub = star(NAMES, "a2")
    assert len(hub.edges) == 2 * (n - 1) and set(hub.sources("a2")) == set(NAMES) - {"a2"}
    assert hub.sources("a0") == ("a2",)
    assert len(chain(NAMES).edges) == 2 * (n - 1) and chain(NAMES).sources("a0") == ("a1",)
    assert len(ring(NAMES).edges) == 2 * n and set(ring(NAMES).sources("a0")) == {"a1", "a5"}
    binary = tree(NAMES, 2)
    assert len(binary.edges) == 2 * (n - 1) and set(binary.sources("a0")) == {"a1", "a2"}
    assert binary.sources("a5") == ("a2",)
    for topology in (full(NAMES), star(NAMES), chain(NAMES), ring(NAMES), binary):
        assert nx.is_strongly_connected(topology.graph)


def test_sparse_has_fixed_in_degree_is_connected_and_reproducible() -> None:
    graph = sparse(NAMES, degree=2, seed=3)
    assert all(len(graph.sources(name)) == 2 for name in NAMES)
    assert nx.is_strongly_connected(graph.graph)
    assert graph.edges == sparse(NAMES, degree=2, seed=3).edges
    assert any(sparse(NAMES, 2, seed).edges != graph.edges for seed in range(4, 10))


def test_parse_specs_and_errors() -> None:
    assert parse_topology("sparse:3:1", NAMES).edges == sparse(NAMES, 3, 1).edges
    assert parse_topology("star:a3", NAMES).kind == "star:a3"
    assert parse_topology("tree:3", NAMES).edges == tree(NAMES, 3).edges
    for bad in ("mesh", "sparse:x", "tree:0", "sparse:9", "star:nobody", "full:2"):
        with pytest.raises(ConfigError, match="topology"):
            parse_topology(bad, NAMES)


def test_custom_edges_pruning_and_bad_edges() -> None:
    custom = from_edges(NAMES[:3], [("a0", "a1"), ("a1", "a2")])
    assert custom.has_edge("a0", "a1") and not custom.has_edge("a1", "a0")
    pruned = full(NAMES).without([("a0", "a1")])
    assert not pruned.has_edge("a0", "a1") and len(pruned.edges) == len(full(NAMES).edges) - 1
    assert full(NAMES).has_edge("a0", "a1")  # the original is untouched
    with pytest.raises(ConfigError, match="unknown agent"):
        from_edges(NAMES[:2], [("a0", "zz")])
    with pytest.raises(ConfigError, match="self-loop"):
        from_edges(NAMES[:2], [("a0", "a0")])
    with pytest.raises(ConfigError, match="repeat"):
        from_edges(("a", "a"), [])


def test_hybrid_is_a_star_plus_peer_edges() -> None:
    from tierlink.agents.topology import hybrid

    graph = hybrid(NAMES, "a0", "ring")
    assert set(graph.sources("a0")) == set(NAMES[1:])
    assert set(graph.sources("a1")) == {"a0", "a2", "a5"}  # the hub and its ring neighbours
    assert len(graph.edges) == 2 * 5 + 2 * 5
    assert parse_topology("hybrid:a0:chain", NAMES).edges == hybrid(NAMES, "a0", "chain").edges
    with pytest.raises(ConfigError, match="peers"):
        hybrid(NAMES, "a0", "mesh")
