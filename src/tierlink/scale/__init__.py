"""scale: the distributed runtime (Ray) and swarm simulation; not built yet (issue 19)."""
