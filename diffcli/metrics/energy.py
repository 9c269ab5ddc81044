"""Energy distance (Székely & Rizzo 2013), the V-statistic of

    E(a, b) = 2·mean_ij |a_i − b_j| − mean_ii' |a_i − a_i'| − mean_jj' |b_j − b_j'|,

twice the MMD² under the distance-induced kernel k(x, y) = |x| + |y| − |x − y| (Sejdinovic et
al. 2013): ≥ 0, and 0 only for equal distributions. Computed in row blocks like MMD², each mean
accumulated in float64 on the host, so memory stays bounded for large sets.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import fold_tiles, pair_sq_dists, point_pair, row_reduce


@jax.jit
def _distance_row_sums(x: jax.Array, tiles: jax.Array) -> jax.Array:
    """x (B, d), tiles (T, d, c) of y -> (B,): sum_j |x_i − y_j| per row i (padding adds 0)."""
    return fold_tiles(x, tiles, lambda d2: jnp.sum(jnp.where(jnp.isfinite(d2), jnp.sqrt(d2), 0.0), axis=1),
                      jnp.add, 0.0)


def _mean_distance(x: np.ndarray, y: np.ndarray, block: int | None) -> float:
    return row_reduce(_distance_row_sums, x, y, block).sum() / (x.shape[0] * y.shape[0])


def energy_distance(a, b, block: int | None = None) -> float:
    """E(a, b) for a (n, *shape) and b (m, *shape): 2 E|A − B| − E|A − A'| − E|B − B'|."""
    a, b = point_pair(a, b)
    return float(2 * _mean_distance(a, b, block) - _mean_distance(a, a, block) - _mean_distance(b, b, block))


def _brute(a: np.ndarray, b: np.ndarray) -> float:
    def mean_dist(x, y):
        return np.sqrt(pair_sq_dists(x, y)).mean()

    return float(2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b))


METRICS.register("energy")(Metric(
    "Energy", energy_distance, "energy distance 2E|A−B| − E|A−A'| − E|B−B'| (Székely & Rizzo 2013)", digits=5,
    brute=_brute,
))
