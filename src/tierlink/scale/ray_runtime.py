"""Teams on Ray: every agent's model in a Ray actor of its own, driven by the same pattern code as
on asyncio (debate, division, hierarchical call `agent.endpoint.complete`; here that call goes to
the actor). Ray is an optional extra (`pip install 'tierlink[ray]'`).

By default a local cluster is started on 127.0.0.1 with usage stats off; `address` joins a real
cluster instead (`ray start --head` on one machine, `ray start --address HEAD:6379` on the others,
then `address="HEAD:6379"` or `auto`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from tierlink.agents.team import Team
from tierlink.core.errors import ConfigError
from tierlink.core.messages import Completion, Request
from tierlink.endpoints.base import Endpoint, StreamChunk, WrappedEndpoint


def _ray() -> Any:
    """The ray module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("runtime", "Ray is not installed", "pip install 'tierlink[ray]' (or run with the asyncio runtime)") from exc
    return ray


class _EndpointHost:
    """Lives in a Ray actor: holds one endpoint and answers requests sent as JSON."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def complete(self, request_json: str) -> str:
        """The endpoint's completion of the request, as JSON (pydantic on both sides)."""
        completion = await self.endpoint.complete(Request.model_validate_json(request_json))
        return completion.model_dump_json()

    async def close(self) -> None:
        """Release what the endpoint holds (model memory, HTTP clients)."""
        await self.endpoint.aclose()


class RayEndpoint(Endpoint):
    """A driver-side stand-in for an endpoint that lives in a Ray actor: same name, profile and node."""

    def __init__(self, actor: Any, inner: Endpoint) -> None:
        self.actor = actor
        self.name, self.profile, self.node = inner.name, inner.profile, inner.node

    async def complete(self, request: Request) -> Completion:
        """Ask the actor; the completion comes back whole, its usage as the endpoint measured it."""
        return Completion.model_validate_json(await self.actor.complete.remote(request.model_dump_json()))

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        """The actor's completion in one piece (team patterns read answers whole)."""
        completion = await self.complete(request)
        yield StreamChunk(text=completion.text)
        yield StreamChunk(completion=completion)

    async def aclose(self) -> None:
        """Close the endpoint inside the actor."""
        await self.actor.close.remote()


@dataclass
class RayRuntime:
    """Where a team's agents run when the runtime is Ray; `team()` moves a team onto it."""

    address: str | None = None  # None: a local cluster on 127.0.0.1; else a running cluster's address
    num_cpus: int | None = None
    actors: list[Any] = field(default_factory=list)

    def start(self) -> None:
        """Join `address`, or start a local cluster bound to 127.0.0.1 (no dashboard, no usage stats)."""
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if self.address is None:  # single-machine mode: every Ray server binds to the loopback address
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        ray = _ray()
        if ray.is_initialized():
            return
        if self.address is None:
            # read by Ray at import; set here too in case ray was imported before this call
            import ray._private.ray_constants as constants
            constants.ENABLE_RAY_CLUSTER = False
            ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=self.num_cpus,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=self.address, log_to_driver=False)

    def team(self, team: Team) -> Team:
        """The same team, each agent's endpoint hosted by a Ray actor of its own."""
        self.start()
        host = _ray().remote(num_cpus=0)(_EndpointHost)
        return replace(team, agents=[replace(agent, endpoint=self._placed(agent.endpoint, host)) for agent in team.agents])

    def _placed(self, endpoint: Endpoint, host: Any) -> Endpoint:
        """The model itself moved into an actor; wrappers around it (a link, a breaker) stay here,
        so link time and the ledger are kept by the driver as on asyncio."""
        if isinstance(endpoint, WrappedEndpoint):
            outer = copy.copy(endpoint)
            outer.inner = self._placed(endpoint.inner, host)
            return outer
        actor = host.remote(endpoint)
        self.actors.append(actor)
        return RayEndpoint(actor, endpoint)

    def release(self) -> None:
        """Let every actor this runtime started go (their processes end); the cluster stays."""
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors.clear()

    def stop(self) -> None:
        """Let the actors go and shut the cluster connection (and a local cluster) down."""
        self.release()
        if _ray().is_initialized():
            _ray().shutdown()
