"""The session with real parts: the embedded model drafting, and real failing servers on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from tierlink.core import Budget, Ledger, Request
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.profile import EndpointProfile
from tierlink.network.clock import RealClock
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.policy import make_policy
from tierlink.routing.session import Session

pytestmark = pytest.mark.model
WIFI = Link(name="wifi", a="phone", b="cloud", up_mbps=50, down_mbps=200, rtt_ms=20)


def _session(gemma: LlamaCppEndpoint, cloud_url: str, profile: EndpointProfile, policy: str,
             budget: Budget | None = None, ledger: Ledger | None = None, **params: object) -> Session:
    cloud = OpenAICompatEndpoint("cloud", cloud_url, "m", profile, "cloud", timeout_s=1.5, max_retries=0)
    endpoints = {"gemma": gemma, "cloud": LinkedEndpoint(cloud, WIFI, RealClock())}
    return Session(endpoints, "gemma", make_policy(policy, **params), budget or Budget(latency_s=30, dollars=0.05),
                   zones={"gemma": "device", "cloud": "cloud"}, charges=ledger)


@pytest.mark.parametrize("fault", ["stall", "error500", "halfstream_dead"])
async def test_failing_cloud_falls_back_to_the_live_device(gemma: LlamaCppEndpoint, fault_server: str, cloud_profile: EndpointProfile, fault: str) -> None:
    url = f"{fault_server}/{fault}/v1" if fault != "halfstream_dead" else "http://127.0.0.1:9/v1"
    s = _session(gemma, url, cloud_profile, "always-cloud")
    started = time.perf_counter()
    result = await s.ask(Request.of("What is the capital of France?", max_tokens=8))
    assert time.perf_counter() - started < 10
    assert result.endpoint == "gemma" and result.fallback and result.answer
    assert "failed" in result.reason and result.usage.output_tokens > 0
    assert s.stats.turns == 1 and s.stats.fallbacks == 1


async def test_cloud_that_answers_is_used(gemma: LlamaCppEndpoint, fault_server: str, cloud_profile: EndpointProfile) -> None:
    s = _session(gemma, f"{fault_server}/ok/v1", cloud_profile, "always-cloud")
    result = await s.ask(Request.of("hi", max_tokens=8))
    assert result.endpoint == "cloud" and result.answer == "all good" and result.usage.dollars > 0


async def test_live_cascade_uses_llama_cpp_signals(gemma: LlamaCppEndpoint, fault_server: str, cloud_profile: EndpointProfile) -> None:
    accept = _session(gemma, f"{fault_server}/ok/v1", cloud_profile, "cascade", min_logprob=-100.0)
    accepted = await accept.ask(Request.of("What is the capital of France?", max_tokens=8))
    assert accepted.used_draft and accepted.endpoint == "gemma" and "accept" in accepted.reason
    strict = _session(gemma, f"{fault_server}/ok/v1", cloud_profile, "cascade", min_logprob=-0.0001, samples=2, self_check=True)
    escalated = await strict.ask(Request.of("What is the capital of France?", max_tokens=8))
    assert escalated.endpoint == "cloud" and "escalate" in escalated.reason
    # the draft, two samples and the self-check all ran on the device and are charged
    assert escalated.usage.latency.decode_s > accepted.usage.latency.decode_s


async def test_llm_router_charges_its_own_call(gemma: LlamaCppEndpoint, fault_server: str, cloud_profile: EndpointProfile) -> None:
    ledger = Ledger()
    s = _session(gemma, f"{fault_server}/ok/v1", cloud_profile, "llm-router", ledger=ledger, router=gemma, min_hard=0.0)
    result = await s.ask(Request.of("Prove Fermat's last theorem.", max_tokens=8))
    assert result.endpoint == "cloud" and "p(hard)" in result.reason
    assert result.usage.origins >= {"live"} and result.usage.input_tokens > 7  # router prompt + cloud call
    assert [(c.kind, c.round, c.endpoint) for c in ledger.charges] == [("router", 1, "gemma"), ("answer", 1, "cloud")]
    assert ledger.spent() == result.usage


async def test_llm_router_that_does_not_fit_the_budget_is_not_called(gemma: LlamaCppEndpoint, fault_server: str,
                                                                      cloud_profile: EndpointProfile) -> None:
    ledger = Ledger()  # 0.05 s left: not even the router's own 2-token call fits, so the device answers unasked
    s = _session(gemma, f"{fault_server}/ok/v1", cloud_profile, "llm-router", Budget(latency_s=0.05), ledger,
                 router=gemma, min_hard=0.0)
    result = await s.ask(Request.of("Prove Fermat's last theorem.", max_tokens=8))
    assert "llm-router: its own call does not fit the budget left" in result.action.reason
    assert result.refused and result.over_budget  # nor does the device's answer: refused, nothing spent
    assert not ledger.charges and result.usage.dollars == 0
