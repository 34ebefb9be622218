"""Start a real server process on 127.0.0.1, wait until it answers, stop it afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(args: list[str], ready_url: str, timeout_s: float = 120.0, log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run `python args...` until the context exits; fail clearly if it never becomes ready."""
    out = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server {args} exited with code {process.returncode}")
            try:
                if httpx.get(ready_url, timeout=1.0).status_code < 500:  # a 503 "still loading" is not ready
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {args} not ready after {timeout_s}s")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()  # type: ignore[union-attr]
