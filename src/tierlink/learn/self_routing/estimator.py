"""The group-level policy gradient with a leave-one-out baseline (no division by the group's
standard deviation): with G samples of one prompt, the weight of sample i's log-likelihood is
(r_i - mean r) / (G - 1), which equals (r_i - mean of the others) / G, an unbiased estimate.

Dividing by the standard deviation (GRPO) makes a group [alpha_a, 0, ...] and a group
[alpha_c, 0, ...] equally good, and the paper saw it collapse to 100% cloud calls.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def group_weights(rewards: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Per-sample weights of one prompt's G samples: (r_i - mean r) / (G - 1); zeros for G < 2."""
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"rewards of one group must be a vector, not shape {r.shape}")
    if len(r) < 2:
        return np.zeros_like(r)
    return (r - r.mean()) / (len(r) - 1)


def normalised_group_weights(rewards: npt.ArrayLike, eps: float = 1e-4) -> npt.NDArray[np.float64]:
    """GRPO's weights, (r_i - mean r) / std r: kept only to show the bias the paper avoids."""
    r = np.asarray(rewards, dtype=np.float64)
    return (r - r.mean()) / (r.std() + eps)
