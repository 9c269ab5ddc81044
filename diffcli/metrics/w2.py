"""Exact 2-Wasserstein distance between two point sets, by POT's network-simplex solver.

W2(a, b) = sqrt(min_P Σ_ij P_ij |a_i − b_j|²) over couplings P of the uniform weights 1/n on a
and 1/m on b: the optimal-transport cost, solved exactly (ot.emd2, Bonneel et al. 2011). It
needs the whole n × m cost matrix in float64, so sets are limited to MAX_PAIRS pairs (2000 ×
2000 takes about a second here); for larger sets use the sliced distance ("sw").
"""

from __future__ import annotations

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import pair_sq_dists, point_pair

MAX_PAIRS = 25_000_000  # 5000 × 5000: a 200 MB cost matrix
MAX_ITER = 100_000_000  # network-simplex iterations; POT's default (1e5) stops short on 2000 points


def w2(a, b) -> float:
    """W2 between a (n, *shape) and b (m, *shape) with uniform weights; exact."""
    import ot

    a, b = point_pair(a, b, np.float64)
    if a.shape[0] * b.shape[0] > MAX_PAIRS:
        raise DiffcliError(f"exact W2 of {a.shape[0]} × {b.shape[0]} points needs a cost matrix of more than "
                           f"{MAX_PAIRS} entries; use fewer points (--n) or the sliced distance 'sw'")
    cost, log = ot.emd2(ot.unif(a.shape[0]), ot.unif(b.shape[0]), ot.dist(a, b), numItermax=MAX_ITER, log=True)
    if log.get("warning"):
        raise DiffcliError(f"exact W2 did not converge: {log['warning']}")
    return float(np.sqrt(max(cost, 0.0)))


def _brute(a: np.ndarray, b: np.ndarray) -> float:
    """The transport LP min <P, C> s.t. P1 = 1/n, Pᵀ1 = 1/m, P ≥ 0, by SciPy's HiGHS."""
    from scipy.optimize import linprog

    n, m = a.shape[0], b.shape[0]
    rows = np.kron(np.eye(n), np.ones((1, m)))
    cols = np.kron(np.ones((1, n)), np.eye(m))
    res = linprog(pair_sq_dists(a, b).ravel(), A_eq=np.vstack([rows, cols]),
                  b_eq=np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)]), bounds=(0, None), method="highs")
    return float(np.sqrt(res.fun))


METRICS.register("w2")(Metric(
    "W2", w2, "exact 2-Wasserstein distance (optimal transport, POT's network simplex)", digits=4, brute=_brute,
))
