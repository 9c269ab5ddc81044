"""Sliced 2-Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015), by POT.

SW2(a, b) = sqrt(mean over directions θ of W2²(θᵀa, θᵀb)): the exact one-dimensional
transport cost of the two sets projected on PROJECTIONS random unit directions, which are the
same for every call (a fixed seed), so values are comparable across samples, seeds and runs.
Each 1-D problem is solved by sorting (quantile functions for unequal sizes), so it scales to
sets far beyond the exact W2's limit.
"""

from __future__ import annotations

import numpy as np

from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import point_pair

PROJECTIONS = 256
SEED = 0


def sliced_wasserstein(a, b) -> float:
    """SW2 between a (n, *shape) and b (m, *shape) over PROJECTIONS fixed random directions."""
    import ot

    a, b = point_pair(a, b, np.float64)
    return float(ot.sliced_wasserstein_distance(a, b, n_projections=PROJECTIONS, p=2, seed=SEED))


def _brute(a: np.ndarray, b: np.ndarray) -> float:
    """The same directions; each 1-D W2² as the integral of the squared difference of the two
    empirical quantile functions, evaluated exactly on the merged breakpoints."""
    import ot

    dirs = ot.sliced.get_random_projections(a.shape[1], PROJECTIONS, seed=SEED)  # (d, P)
    pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
    n, m = a.shape[0], b.shape[0]
    u = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)  # quantile levels' breakpoints
    w = np.diff(np.concatenate([[0.0], u]))
    mid = u - w / 2  # a level inside each piece, where both quantile functions are constant
    qa = pa[np.minimum(np.floor(mid * n).astype(int), n - 1)]
    qb = pb[np.minimum(np.floor(mid * m).astype(int), m - 1)]
    return float(np.sqrt(np.mean(w @ (qa - qb) ** 2)))


METRICS.register("sw")(Metric(
    "SW2", sliced_wasserstein, f"sliced 2-Wasserstein distance over {PROJECTIONS} fixed random directions (POT)",
    digits=4, brute=_brute,
))
