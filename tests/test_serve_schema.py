"""schemathesis against the running gateway's own OpenAPI spec: no generated request gets a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.servers.gateway import gateway, three_tiers
from tests.servers.process import free_port


@pytest.fixture(scope="module")
def gateway_url(fault_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    upstream_port = int(fault_server.rsplit(":", 1)[1])
    config = three_tiers(tmp_path_factory.mktemp("schema") / "gw.yaml", upstream_port)
    with gateway(config, port):
        yield f"http://127.0.0.1:{port}"


def test_no_generated_request_gets_a_server_error(gateway_url: str) -> None:
    """Every operation of the spec, 60 generated requests each (hypothesis, derandomized), none answered 5xx."""
    api = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=gateway_url, checks=[not_a_server_error])

        check()
    # and a request the spec allows that does reach an endpoint, through the same check
    chat = next(op for op in operations if op.path == "/v1/chat/completions")
    valid = chat.Case(body={"model": "tierlink-auto", "messages": [{"role": "user", "content": "hi"}], "stream": True},
                      media_type="application/json")
    assert valid.call_and_validate(base_url=gateway_url, checks=[not_a_server_error]).status_code == 200


def test_the_spec_documents_the_openai_routes(gateway_url: str) -> None:
    paths = httpx.get(f"{gateway_url}/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/health", "/ready", "/metrics"} <= set(paths)
    assert {"400", "401", "402", "404", "429", "503"} <= set(paths["/v1/chat/completions"]["post"]["responses"])
    model = httpx.get(f"{gateway_url}/openapi.json").json()["components"]["schemas"]["ChatRequest"]["properties"]["model"]
    assert {"tierlink-auto", "cloud", "edge", "device"} <= set(model["enum"])
