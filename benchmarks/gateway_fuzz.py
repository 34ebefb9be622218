"""Fuzz the gateway: schemathesis cases from its own OpenAPI spec for every operation, then
hypothesis-generated chat bodies that mix valid and hostile values (wrong types, lone surrogates,
huge numbers, unsupported parameters, deep nesting, raw bytes), against a live `tierlink serve`
in front of a real upstream (tests/servers/fault_server.py, route /ok). A case fails if it gets a
5xx, or a stream that carries an internal-error event.

    python benchmarks/gateway_fuzz.py [--cases 10000] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.servers.gateway import gateway, three_tiers  # noqa: E402
from tests.servers.process import free_port, running  # noqa: E402

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)  # surrogates included
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
                   st.floats(allow_nan=False, allow_infinity=False), ANY_TEXT)
JUNK = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ANY_TEXT, inner, max_size=4)),
                    max_leaves=12)
ROLES = st.sampled_from(["user", "system", "assistant", "developer", "tool", "function", "robot"])
PART = st.one_of(st.fixed_dictionaries({"type": st.just("text"), "text": ANY_TEXT}),
                 st.fixed_dictionaries({"type": st.sampled_from(["image_url", "input_audio", "file"]), "image_url": JUNK}))
MESSAGE = st.fixed_dictionaries({"role": ROLES, "content": st.one_of(ANY_TEXT, st.lists(PART, max_size=3), JUNK)})
PARAMS = ["max_tokens", "max_completion_tokens", "temperature", "stop", "stream", "stream_options", "n", "user",
          "seed", "tools", "tool_choice", "response_format", "logprobs", "top_logprobs", "audio", "metadata"]


@st.composite
def chat_bodies(draw: st.DrawFn) -> bytes:
    """A chat request body: mostly the right shape with hostile values, sometimes not JSON at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=200))
    body: dict[str, Any] = {
        "model": draw(st.one_of(st.sampled_from(["tierlink-auto", "tierlink-cascade", "cloud", "edge", "device"]), JUNK)),
        "messages": draw(st.one_of(st.lists(MESSAGE, min_size=1, max_size=4), JUNK)),
    }
    for name in draw(st.lists(st.sampled_from(PARAMS), unique=True, max_size=4)):
        body[name] = draw(st.one_of(JUNK, st.integers(1, 64), st.booleans()))
    return json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as its escape


def bad(response: httpx.Response) -> str | None:
    """Why a response fails the run: a 5xx, or a 200 stream with an internal-error event."""
    if response.status_code >= 500 and response.status_code != 503:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if response.status_code == 503 and "overloaded" not in response.text and "no endpoint" not in response.text:
        return f"HTTP 503 not from routing: {response.text[:200]}"
    if response.status_code == 200 and ('"server_error"' in response.text.replace(" ", "") or "internal error (" in response.text):
        return f"internal error in the body: {response.text[:200]}"
    return None


def run_schemathesis(base: str, per_operation: int, seed_value: int, failures: list[str]) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=per_operation, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base)
            counts[f"{operation.method.upper()} {operation.path} {response.status_code}"] += 1
            why = bad(httpx.Response(response.status_code, content=response.content))
            if why:
                failures.append(f"{operation.path}: {why}")

        seed(seed_value)(check)()
    return counts


def run_bodies(base: str, cases: int, seed_value: int, failures: list[str]) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    with httpx.Client(timeout=60) as client:
        @given(body=chat_bodies())
        @settings(max_examples=cases, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(body: bytes) -> None:
            response = client.post(f"{base}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
            statuses[response.status_code] += 1
            why = bad(response)
            if why:
                failures.append(f"body {body[:120]!r}: {why}")

        seed(seed_value)(check)()
    return statuses


def main(args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    upstream_port, port = free_port(), free_port()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, running([str(ROOT / "tests/servers/fault_server.py"), str(upstream_port)],
                                                         f"http://127.0.0.1:{upstream_port}/stats"):
        with gateway(three_tiers(Path(tmp) / "gw.yaml", upstream_port), port):
            base = f"http://127.0.0.1:{port}"
            started = time.monotonic()
            spec_counts = run_schemathesis(base, args.cases // 10, args.seed, failures)
            bodies = run_bodies(base, args.cases - sum(spec_counts.values()), args.seed, failures)
            seconds = time.monotonic() - started
            metrics = httpx.get(f"{base}/metrics").text
    spec_total, body_total = sum(spec_counts.values()), sum(bodies.values())
    print(f"gateway fuzz, commit {commit}: {spec_total} schemathesis cases over the spec's operations, "
          f"{body_total} hypothesis chat bodies, {seconds:.0f} s (live)")
    print("schemathesis statuses:", dict(sorted(collections.Counter(k.rsplit(" ", 1)[1] for k in spec_counts.elements()).items())))
    print("chat-body statuses:", dict(sorted(bodies.items())))
    print("5xx in the gateway's own metrics:", [line for line in metrics.splitlines()
                                                 if line.startswith("tierlink_requests_total") and 'status="5' in line])
    print(f"failures: {len(failures)}")
    for failure in failures[:20]:
        print("  ", failure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
