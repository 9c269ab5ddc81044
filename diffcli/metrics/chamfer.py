"""Chamfer distance between two point sets (Euclidean, not squared)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from diffcli.metrics.blocks import as_points, check_same_dim, fold_tiles, row_reduce


@jax.jit
def _nearest_dist(x: jax.Array, tiles: jax.Array) -> jax.Array:
    """x (B, d), tiles (T, d, c) of y -> (B,): distance from each row of x to its nearest y."""
    nearest_sq = fold_tiles(x, tiles, lambda d2: jnp.min(d2, axis=1), jnp.minimum, jnp.inf)
    # sqrt after the min: one sqrt per row instead of per pair.
    return jnp.sqrt(nearest_sq)


def chamfer_distance(a, b, block: int | None = None) -> float:
    """CD = mean_i min_j |a_i - b_j| + mean_j min_i |a_i - b_j|.

    a: (n, d), b: (m, d), NumPy or JAX. block: rows of one set per kernel call (None: 512).
    """
    a, b = as_points(a, "a"), as_points(b, "b")
    check_same_dim(a, b)
    a_to_b = row_reduce(_nearest_dist, a, b, block).mean()
    b_to_a = row_reduce(_nearest_dist, b, a, block).mean()
    return float(a_to_b + b_to_a)
