"""The Policy protocol and the name -> class registry (as RouteLLM's ROUTER_CLS)."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tierlink.core.errors import ConfigError
from tierlink.endpoints.profile import EndpointProfile
from tierlink.routing.state import Action, TurnState


@dataclass(frozen=True)
class JoinEvidence:
    """What is known of an endpoint that joins at run time: its profile, and its graded answers
    to a few probe questions with what each call cost (the same accounting as any turn)."""

    profile: EndpointProfile
    probe_ids: tuple[str, ...] = ()
    probe_texts: tuple[str, ...] = ()
    outcomes: tuple[float, ...] = ()
    dollars_per_call: float = 0.0


class Policy(ABC):
    """Decides which endpoint answers a turn. One method; state in, action out."""

    name: ClassVar[str]
    # parameters that name an endpoint of the deployment (in YAML, a string) and are given as one
    endpoint_params: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    async def decide(self, state: TurnState) -> Action:
        """The action for this turn (a cascade is asked again once its draft exists)."""

    def joined(self, endpoint: str, evidence: JoinEvidence) -> str | None:
        """An endpoint joined at run time: a policy that can weigh it without retraining does so
        here and says how (None: it only ever sends turns to the endpoints it names)."""
        return None

    def left(self, endpoint: str) -> None:
        """An endpoint left: a policy that learned of it forgets it (it is gone from every state too)."""


def registry() -> dict[str, type[Policy]]:
    """Every built-in policy by name (imported lazily: policies may pull in heavy modules)."""
    from tierlink.routing.policies import POLICIES

    return POLICIES


def policy_names() -> list[str]:
    """Every policy name, built-in and trained, without importing a trained one."""
    from tierlink.routing.policies import POLICIES, TRAINED

    return sorted({*POLICIES, *TRAINED})


def policy_class(name: str) -> type[Policy]:
    """The class of a policy by name; a trained policy's module is imported only now."""
    from tierlink.routing.policies import POLICIES, TRAINED

    if name in POLICIES:
        return POLICIES[name]
    if name not in TRAINED:
        raise ConfigError("policy", f"unknown policy '{name}'", f"use one of: {', '.join(policy_names())}")
    module, _, attribute = TRAINED[name].partition(":")
    cls: type[Policy] = getattr(importlib.import_module(module), attribute)
    return cls


def make_policy(name: str, named_endpoints: Mapping[str, Any] | None = None, **params: Any) -> Policy:
    """Instantiate a policy by name; unknown names and bad parameters are ConfigErrors. With
    `named_endpoints`, a parameter that names an endpoint (`router: gemma` in YAML) becomes that endpoint."""
    policy = policy_class(name)
    for param in policy.endpoint_params & set(params):
        value = params[param]
        if isinstance(value, str):
            if named_endpoints is None or value not in named_endpoints:
                known = ", ".join(named_endpoints or ()) or "none here"
                raise ConfigError(f"policy.params.{param}", f"no endpoint named '{value}'", f"name one of: {known}")
            params = params | {param: named_endpoints[value]}
    try:
        return policy(**params)
    except TypeError as exc:
        raise ConfigError(f"policy.{name}", str(exc), "check the policy's parameters") from exc
