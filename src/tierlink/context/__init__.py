"""Context: what history travels with a turn, and prefix-cache accounting (token counts: core.tokens)."""
