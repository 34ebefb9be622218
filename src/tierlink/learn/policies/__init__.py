"""Trained routing policies (a learned router, the RL router): registered by name in
`routing.policies.TRAINED` and imported only when a session uses one."""
