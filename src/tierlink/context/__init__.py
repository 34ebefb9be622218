"""Context: token counting, what history travels with a turn, and prefix-cache accounting."""
