"""tierlink: LLMs on devices, edge boxes and clouds collaborating under resource limits."""

__version__ = "0.1.0"
