"""Horizontal collaboration: agents on nodes, topologies, patterns and their traffic."""
