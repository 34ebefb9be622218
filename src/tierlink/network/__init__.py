"""Network: nodes, links with availability traces, transfer-time model and link emulation."""
