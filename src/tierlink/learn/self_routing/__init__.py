"""Self-routing (Fang et al., arXiv 2509.24050): the device model is post-trained with RL to end
its own answer with a help tag when it cannot solve the task, under a cap on cloud calls."""
