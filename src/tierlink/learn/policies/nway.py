"""The `nway` policy: the N-way router (`bench nway --save DIR`) serving a session among N tiers.

It predicts every trained model's quality on the turn's question and sends the turn to the
endpoint whose model scores best after `weight` x its recorded price per prompt. `endpoints`
maps the outcome table's model names to endpoint names (`"gpt-4o=cloud,llama-3.1-8b=edge"`);
a model with an endpoint of its own name needs no entry, and models with no endpoint are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from tierlink.core.errors import ConfigError
from tierlink.learn.data import Prompts
from tierlink.learn.embeddings import EmbeddingCache
from tierlink.learn.nway import load_nway
from tierlink.routing.policy import JoinEvidence, Policy
from tierlink.routing.state import Action, TurnState


def parse_mapping(text: str | None) -> dict[str, str]:
    """'model=endpoint,...' as a dict; a malformed entry is a ConfigError naming it."""
    mapping = {}
    for entry in filter(None, (part.strip() for part in (text or "").split(","))):
        model, sep, endpoint = entry.partition("=")
        if not sep or not model.strip() or not endpoint.strip():
            raise ConfigError("policy.params.endpoints", f"'{entry}' is not model=endpoint", "write e.g. gpt-4o=cloud,llama-3.1-8b=edge")
        mapping[model.strip()] = endpoint.strip()
    return mapping


class NWayPolicy(Policy):
    """Best predicted quality minus weight x price, among the endpoints reachable now."""

    name: ClassVar[str] = "nway"

    def __init__(self, model: str | Path, weight: float = 0.0, endpoints: str | None = None) -> None:
        self.router = load_nway(Path(model))
        self.weight = weight
        self.mapping = parse_mapping(endpoints)
        self.cache = EmbeddingCache()

    def _endpoint_of(self, model: str) -> str:
        return self.mapping.get(model, model)

    async def decide(self, state: TurnState) -> Action:
        """The reachable endpoint with the best predicted value; the device if none is mapped."""
        usable = {m: self._endpoint_of(m) for m in self.router.prices  # trained and joined models
                  if self._endpoint_of(m) in state.endpoints and state.endpoints[self._endpoint_of(m)].reachable
                  and state.endpoints[self._endpoint_of(m)].allowed}
        if not usable:
            return Action(endpoint=state.device, reason="nway: no trained model has a reachable endpoint; the device answers")
        prompts = Prompts(np.asarray([state.request.prompt_id or "turn"]), [state.request.last_user_text], [None])
        predicted = self.router.predict(prompts, self.cache)[list(usable)].iloc[0]
        value = {m: float(predicted[m]) - self.weight * self.router.prices[m] for m in usable}
        best = max(value, key=lambda m: value[m])
        return Action(endpoint=usable[best], reason=f"nway: {best} predicted {predicted[best]:.2f} at "
                                                    f"${self.router.prices[best]:.5f} (weight {self.weight:g}), best of {len(usable)}")

    def joined(self, endpoint: str, evidence: JoinEvidence) -> str | None:
        """The new endpoint as a model of its own name: its ability fitted on the probe outcomes
        (`NWayRouter.join`), its price the probes' mean cost; no probes, no opinion."""
        if not evidence.outcomes:
            return None
        if endpoint in self.router.models:
            raise ConfigError("name", f"the router already has a trained model '{endpoint}'", "register it under another name")
        probes = Prompts(np.asarray(evidence.probe_ids), list(evidence.probe_texts), [None] * len(evidence.outcomes))
        theta = self.router.join(endpoint, evidence.dollars_per_call, probes, evidence.outcomes, self.cache)
        return (f"nway: joined with ability {theta:+.2f} from {len(evidence.outcomes)} probes "
                f"({sum(evidence.outcomes):g} right) at ${evidence.dollars_per_call:.6f} per call")

    def left(self, endpoint: str) -> None:
        """A joined model is forgotten; a trained one is left out of every choice from now on."""
        if endpoint in self.router.prices:
            self.router.leave(endpoint)
