"""Endpoints on the fault server (tests/servers/fault_server.py), for sessions under test."""

from __future__ import annotations

from tierlink.endpoints.openai_compat import OpenAICompatEndpoint
from tierlink.endpoints.registry import endpoint_profiles


def device_and_cloud(fault_server: str, cloud_route: str) -> dict[str, OpenAICompatEndpoint]:
    """A device on route /ok and a GPT-4o-priced cloud on `cloud_route`, no retries, no key."""
    profiles = endpoint_profiles()
    return {
        "device": OpenAICompatEndpoint("device", f"{fault_server}/ok/v1", "m", profiles["laptop-cpu/gemma3-270m-q4"], "robot",
                                       api_key_env="TIERLINK_TEST_NO_KEY", max_retries=0),
        "cloud": OpenAICompatEndpoint("cloud", f"{fault_server}/{cloud_route}/v1", "m", profiles["gpt-4o"], "cloud",
                                      api_key_env="TIERLINK_TEST_NO_KEY", max_retries=0),
    }
