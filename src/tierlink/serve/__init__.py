"""serve: the OpenAI-compatible gateway (FastAPI app, the engine behind it, keys, rate limits, SQLite store, metrics)."""
