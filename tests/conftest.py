"""Shared fixtures: the real embedded model, and real servers on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from tierlink.endpoints.llamacpp import LlamaCppEndpoint  # noqa: E402
from tierlink.endpoints.model_catalogue import DEFAULT_MODEL, model_catalogue  # noqa: E402
from tierlink.endpoints.model_files import gguf_path as catalogue_gguf  # noqa: E402
from tierlink.endpoints.profile import EndpointProfile  # noqa: E402
from tierlink.endpoints.registry import endpoint_profiles  # noqa: E402

from .servers.process import free_port, running  # noqa: E402

SERVERS = Path(__file__).parent / "servers"


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    return catalogue_gguf(model_catalogue()[DEFAULT_MODEL])


@pytest.fixture(scope="session")
def device_profile() -> EndpointProfile:
    return endpoint_profiles()["laptop-cpu/gemma3-270m-q4"]


@pytest.fixture(scope="session")
def cloud_profile() -> EndpointProfile:
    return endpoint_profiles()["gpt-4o-mini"]


@pytest.fixture(scope="session")
def gemma(device_profile: EndpointProfile) -> LlamaCppEndpoint:
    endpoint = LlamaCppEndpoint("gemma", device_profile, "device")
    endpoint.load()
    return endpoint


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server serving the embedded GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    args = ["-m", "tierlink.endpoints.llama_server", "--model", str(gguf_path), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "2048", "--model_alias", "gemma-server"]
    base = f"http://127.0.0.1:{port}/v1"
    with running(args, f"{base}/models", log=log):
        yield base


@pytest.fixture(scope="session")
def fault_server() -> Iterator[str]:
    """A real HTTP server with routes that return 429s, 500s, stall, or cut streams."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([str(SERVERS / "fault_server.py"), str(port)], f"{base}/stats"):
        yield base
