"""Vertical (device-cloud) collaboration: sessions, routing policies, hard budgets, fallbacks."""
