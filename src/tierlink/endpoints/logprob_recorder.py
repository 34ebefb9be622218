"""Per-token log-probabilities and entropy from llama.cpp's raw logits.

llama-cpp-python only returns logprobs when the model keeps logits for every position
(`logits_all=True`), which for Gemma 3's 262k vocabulary costs ~1 MB per context token. This
logits processor instead sees each step's logits once, keeps the top-k, the entropy and the
log-partition, and settles the chosen token's log-probability when the next step reveals it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass
class StepStats:
    """One sampling step."""

    entropy: float
    top: dict[int, float]
    chosen_logprob: float | None = None


@dataclass
class LogprobRecorder:
    """A llama-cpp-python logits processor that records, and never changes, the logits."""

    top_k: int = 20
    greedy: bool = True
    steps: list[StepStats] = field(default_factory=list)
    _previous: tuple[npt.NDArray[np.float32], float] | None = None

    def __call__(
        self, input_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        if self._previous is not None and len(input_ids):
            self._settle(int(input_ids[-1]))
        shifted = logits.astype(np.float64) - float(logits.max())
        log_z = float(np.log(np.exp(shifted).sum()))
        logp = shifted - log_z
        entropy = float(-(np.exp(logp) * logp).sum())
        top_ids = np.argpartition(-logp, self.top_k)[: self.top_k]
        top = {int(i): float(logp[i]) for i in top_ids[np.argsort(-logp[top_ids])]}
        self.steps.append(StepStats(entropy=entropy, top=top))
        self._previous = (logits.copy(), float(logits.max()) + log_z)
        return logits

    def _settle(self, token: int) -> None:
        assert self._previous is not None
        logits, log_partition = self._previous
        self.steps[-1].chosen_logprob = float(logits[token]) - log_partition
        self._previous = None

    def finish(self) -> None:
        """Settle the last step: under greedy decoding the chosen token is the arg-max."""
        if self._previous is not None and self.greedy and self.steps:
            self.steps[-1].chosen_logprob = max(self.steps[-1].top.values())
        self._previous = None

    def token_logprobs(self) -> tuple[float, ...]:
        """Log-probability of each settled chosen token (call `finish()` first to include the last)."""
        return tuple(s.chosen_logprob for s in self.steps if s.chosen_logprob is not None)

    def entropies(self) -> tuple[float, ...]:
        """Entropy (nats) of each step's distribution, one per generated token."""
        return tuple(s.entropy for s in self.steps)
