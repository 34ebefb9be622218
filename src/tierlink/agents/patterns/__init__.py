"""Collaboration patterns: debate, division of labour, hierarchical supervisor-workers."""
