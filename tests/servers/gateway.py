"""A tierlink gateway process in front of fault-server upstreams, for the gateway tests."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.servers.process import running

FAST_LINK = {"profile": "wired", "rtt_ms": 0, "up_mbps": 100000, "down_mbps": 100000, "loss": 0}


def upstream(port: int, fault: str, profile: str, node: str, timeout_s: float = 5.0, **extra: object) -> dict:
    return {"kind": "openai", "node": node, "base_url": f"http://127.0.0.1:{port}/{fault}/v1", "model": "fault-model",
            "profile": profile, "api_key_env": "TIERLINK_TEST_NO_KEY", "timeout_s": timeout_s, "max_retries": 0, **extra}


def write_config(path: Path, cloud: dict, edge: dict, device: dict, policy: str = "always-cloud", **serve: object) -> Path:
    config = {
        "nodes": {"robot": {"tier": "device"}, "edge": {"tier": "edge"}, "cloud": {"tier": "cloud"}},
        "links": {"robot-edge": {"a": "robot", "b": "edge", **FAST_LINK}, "robot-cloud": {"a": "robot", "b": "cloud", **FAST_LINK}},
        "endpoints": {"device": device, "edge": edge, "cloud": cloud},
        "device": "device",
        "policy": {"name": policy},
        "serve": {"database": str(path.parent / "gateway.sqlite3"), "breaker": {"failures_to_open": 2, "reset_after_s": 1.0},
                  **serve},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def three_tiers(path: Path, port: int, cloud_fault: str = "ok", cloud: dict | None = None, **serve: object) -> Path:
    """device and edge healthy on the fault server; the cloud on route `cloud_fault` (or `cloud`, a whole spec)."""
    cloud = cloud or upstream(port, cloud_fault, "gpt-4o", "cloud", timeout_s=3.0, first_chunk_timeout_s=1.0)
    return write_config(path, cloud, upstream(port, "ok", "edge-l4/llama3.1-8b", "edge"),
                        upstream(port, "ok", "laptop-cpu/gemma3-270m-q4", "robot"), **serve)


@contextlib.contextmanager
def gateway(config: Path, port: int, log: Path | None = None) -> Iterator[subprocess.Popen]:
    with running(["-m", "tierlink.cli", "serve", "--config", str(config), "--port", str(port)],
                 f"http://127.0.0.1:{port}/ready", timeout_s=120, log=log) as process:
        yield process
