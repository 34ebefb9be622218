"""The Policy protocol and the name -> class registry (as RouteLLM's ROUTER_CLS)."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from tierlink.core.errors import ConfigError
from tierlink.routing.state import Action, TurnState


class Policy(ABC):
    """Decides which endpoint answers a turn. One method; state in, action out."""

    name: ClassVar[str]

    @abstractmethod
    async def decide(self, state: TurnState) -> Action:
        """The action for this turn (a cascade is asked again once its draft exists)."""


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


def make_policy(name: str, **params: Any) -> Policy:
    """Instantiate a policy by name; unknown names and bad parameters are ConfigErrors."""
    policy = policy_class(name)
    try:
        return policy(**params)
    except TypeError as exc:
        raise ConfigError(f"policy.{name}", str(exc), "check the policy's parameters") from exc
