"""Chamfer distance between two point sets (Euclidean, not squared): the reference benchmark's CD."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import fold_tiles, pair_sq_dists, point_pair, row_reduce


@jax.jit
def _nearest_dist(x: jax.Array, tiles: jax.Array) -> jax.Array:
    """x (B, d), tiles (T, d, c) of y -> (B,): distance from each row of x to its nearest y."""
    nearest_sq = fold_tiles(x, tiles, lambda d2: jnp.min(d2, axis=1), jnp.minimum, jnp.inf)
    # sqrt after the min: one sqrt per row instead of per pair.
    return jnp.sqrt(nearest_sq)


def chamfer_distance(a, b, block: int | None = None) -> float:
    """CD = mean_i min_j |a_i - b_j| + mean_j min_i |a_i - b_j|.

    a: (n, *shape), b: (m, *shape), NumPy or JAX. block: rows of one set per kernel call (None: 512).
    """
    a, b = point_pair(a, b)
    a_to_b = row_reduce(_nearest_dist, a, b, block).mean()
    b_to_a = row_reduce(_nearest_dist, b, a, block).mean()
    return float(a_to_b + b_to_a)


def _brute(a: np.ndarray, b: np.ndarray) -> float:
    dist = np.sqrt(pair_sq_dists(a, b))
    return float(dist.min(axis=1).mean() + dist.min(axis=0).mean())


METRICS.register("cd")(Metric(
    "CD", chamfer_distance, "Chamfer distance: mean nearest-neighbour distance, both ways", digits=4, brute=_brute,
))
