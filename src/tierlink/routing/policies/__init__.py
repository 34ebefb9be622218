"""Built-in routing policies, by name; trained ones by the module that holds them (imported when used,
so `routing` never imports `learn`)."""

from __future__ import annotations

from tierlink.routing.policies.budget_pacing import BudgetPacingPolicy
from tierlink.routing.policies.cascade import CascadePolicy
from tierlink.routing.policies.fixed import AlwaysCloud, AlwaysDevice
from tierlink.routing.policies.llm_router import LLMRouterPolicy
from tierlink.routing.policies.random_choice import RandomPolicy
from tierlink.routing.policies.self_route import SelfRoutePolicy
from tierlink.routing.policies.threshold import ThresholdPolicy
from tierlink.routing.policy import Policy

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (AlwaysDevice, AlwaysCloud, RandomPolicy, ThresholdPolicy, CascadePolicy, LLMRouterPolicy,
                BudgetPacingPolicy, SelfRoutePolicy)
}
# name -> "module:Class" of a policy that needs the learn layer (scikit-learn, joblib, torch)
TRAINED: dict[str, str] = {
    "learned": "tierlink.learn.policies.learned:LearnedPolicy",
    "rl": "tierlink.learn.policies.rl:RLPolicy",
    "nway": "tierlink.learn.policies.nway:NWayPolicy",
}
