"""The traffic graph: agents as nodes, every topology edge drawn, its width by the bytes it
carried (measured on the serialised messages), coloured by the tier pair of its link."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from tierlink.agents.topology import Topology
from tierlink.core.ledger import Ledger


def _pyplot() -> Any:
    """matplotlib, headless, imported only when drawing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_traffic(ledgers: Iterable[Ledger], topology: Topology, path: Path, title: str) -> Path:
    """One PNG of the traffic summed over `ledgers` (e.g. every task of a run)."""
    carried: dict[tuple[str, str], int] = {}
    for ledger in ledgers:
        for edge, totals in ledger.by_edge().items():
            carried[edge] = carried.get(edge, 0) + totals.bytes
    heaviest = max(carried.values(), default=1) or 1
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
    layout = nx.circular_layout(topology.graph)
    nx.draw_networkx_nodes(topology.graph, layout, ax=ax, node_color="#dbe8f6", edgecolors="#335", node_size=900)
    nx.draw_networkx_labels(topology.graph, layout, ax=ax, font_size=8)
    edges = list(topology.edges)
    widths = [0.4 + 6.0 * carried.get(e, 0) / heaviest for e in edges]
    colours = ["#c0392b" if carried.get(e, 0) else "#bbbbbb" for e in edges]
    nx.draw_networkx_edges(topology.graph, layout, ax=ax, edgelist=edges, width=widths, edge_color=colours,
                           arrows=True, arrowsize=10, connectionstyle="arc3,rad=0.08", node_size=900)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    total = sum(carried.values())
    fig.text(0.01, 0.01, f"edge width: bytes carried (measured), total {total:,} B; grey: unused edge", fontsize=7, color="dimgrey")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
