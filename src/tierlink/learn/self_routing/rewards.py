"""The paper's rewards: what one device answer earns.

A local answer that is right earns alpha_local (1); asking for help earns alpha_cloud (the price
of a call is alpha_local - alpha_cloud) when the cloud's answer is right; anything else earns 0.
alpha_cloud = 0 never offloads; alpha_cloud = alpha_local always asks.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class Rewards(BaseModel):
    """The reward of one device sample (paper Sec. 3: alpha_a, alpha_c)."""

    alpha_local: float = Field(1.0, gt=0, description="a correct local answer")
    alpha_cloud: float = Field(0.5, ge=0, description="help asked and the cloud right: alpha_local minus a call's price")

    @model_validator(mode="after")
    def _call_costs_something(self) -> Rewards:
        if self.alpha_cloud > self.alpha_local:
            raise ValueError("alpha_cloud must not exceed alpha_local (asking would beat answering right)")
        return self

    def of(self, asked: bool, local_correct: bool, cloud_correct: bool) -> float:
        """alpha_cloud if help was asked and the cloud is right, alpha_local if answered right locally, else 0."""
        if asked:
            return self.alpha_cloud if cloud_correct else 0.0
        return self.alpha_local if local_correct else 0.0
