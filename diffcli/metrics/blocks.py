"""Row-blocked pairwise reductions: an (n, m) matrix is never held whole, only (block, m) slabs."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError

# Bytes one float32 (block, m) slab may take; XLA may hold a couple of these at once, so
# 100k x 100k stays at a few hundred MB.
SLAB_BYTES = 128 * 2**20


def as_points(x, name: str) -> np.ndarray:
    """Validate a point set and return it as a float32 NumPy array of shape (n, d)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0:
        raise DiffcliError(f"{name} must be a non-empty (n, d) array of points; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DiffcliError(f"{name} contains NaN or infinite values")
    return x


def check_same_dim(a: np.ndarray, b: np.ndarray) -> None:
    """Both sets must live in the same space: (n, d) and (m, d)."""
    if a.shape[1] != b.shape[1]:
        raise DiffcliError(f"point sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")


def sq_dists(x: jax.Array, y: jax.Array) -> jax.Array:
    """Squared Euclidean distances, (B, d) x (m, d) -> (B, m).

    Direct differences rather than |x|^2 + |y|^2 - 2 x.y: no cancellation, so coincident
    points give exactly 0 and near-zero distances keep their relative precision.
    """
    return jnp.sum(jnp.square(x[:, None, :] - y[None, :, :]), axis=-1)


def row_reduce(
    kernel: Callable[..., jax.Array], x: np.ndarray, y: np.ndarray, block: int | None, *args
) -> np.ndarray:
    """Apply kernel(x_block (B, d), y (m, d), *args) -> (B,) over row blocks of x (n, d).

    Returns the (n,) per-row results as float64 so callers accumulate on the host in double
    precision. The last block is padded to B rows (results for padding are dropped), so the
    jitted kernel compiles once per (B, m, d).
    """
    n, m = x.shape[0], y.shape[0]
    if block is None:
        block = max(1, SLAB_BYTES // (4 * m))
    elif block < 1:
        raise DiffcliError(f"block must be a positive number of rows; got {block}")
    block = min(block, n)
    n_blocks = -(-n // block)
    x = np.pad(x, ((0, n_blocks * block - n), (0, 0)))
    y = jax.device_put(y)
    # Dispatch every block before reading any back, so host and device work overlap.
    parts = [kernel(x[i * block : (i + 1) * block], y, *args) for i in range(n_blocks)]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])[:n]
