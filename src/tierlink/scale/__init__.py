"""scale: swarm simulation on the virtual clock (swarm.py); the Ray runtime is not built yet (issue 19)."""
