"""Configuration: one YAML file describes nodes, links and endpoints."""
