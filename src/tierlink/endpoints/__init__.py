"""Endpoints: anything that answers a Request (llama.cpp in-process, OpenAI-compatible, replay)."""
