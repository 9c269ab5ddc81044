"""Blocked pairwise reductions: an (n, m) matrix is never held whole, only (rows, cols) tiles.

Each jitted kernel call takes a block of `rows` points of x (B, d) and all of y, pre-cut into
column tiles (T, d, cols); a lax.scan walks the tiles, so one call's working memory is a few
(B, cols) float32 tiles whatever m is. The host loops over row blocks and keeps the per-row
results in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError

# 512 x 1024 float32 tiles are 2 MB: they stay in cache on CPU, and a 100k x 100k metric
# needs no more than a few of them at any time.
ROWS = 512
COLS = 1024


def as_points(x, name: str, dtype=np.float32) -> np.ndarray:
    """Validate a point set (n, *shape) and return it as a NumPy array of flat points (n, d)."""
    x = np.asarray(x, dtype=dtype)
    if x.ndim < 2 or x.size == 0:
        raise DiffcliError(f"{name} must be a non-empty (n, d) or (n, *shape) array of points; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DiffcliError(f"{name} contains NaN or infinite values")
    return x.reshape(x.shape[0], -1)


def check_same_dim(a: np.ndarray, b: np.ndarray) -> None:
    """Both sets must live in the same space: (n, d) and (m, d)."""
    if a.shape[1] != b.shape[1]:
        raise DiffcliError(f"point sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")


def point_pair(a, b, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Two validated point sets of one dimension, as flat (n, d) and (m, d) arrays."""
    a, b = as_points(a, "a", dtype), as_points(b, "b", dtype)
    check_same_dim(a, b)
    return a, b


def pair_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, d), (m, d) -> (n, m) squared Euclidean distances in float64 (small sets only)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def column_tiles(y: np.ndarray, cols: int = COLS) -> jax.Array:
    """(m, d) -> (T, d, c) device array, c = min(cols, m), T = ceil(m / c).

    Padding points sit at +inf: their squared distance to any finite x is +inf, so they never
    win a min and add exp(-inf) = 0 to a kernel sum; no mask is needed.
    """
    m, d = y.shape
    c = min(cols, m)
    t = -(-m // c)
    padded = np.full((t * c, d), np.inf, dtype=np.float32)
    padded[:m] = y
    # Coordinate-major tiles: each y[:, k] slice is contiguous for the vectorised inner loop.
    return jax.device_put(np.ascontiguousarray(padded.reshape(t, c, d).transpose(0, 2, 1)))


UNROLL_MAX_DIM = 16  # up to this many coordinates the differences are summed one by one


def tile_sq_dists(x: jax.Array, tile: jax.Array) -> jax.Array:
    """Squared Euclidean distances, x (B, d) and tile (d, c) -> (B, c).

    For few coordinates, direct differences rather than |x|^2 + |y|^2 - 2 x.y: no cancellation, so
    coincident points give exactly 0. The sum over d is unrolled because XLA fuses the unrolled
    form into a single loop, where a broadcast (B, c, d) difference runs ~100x slower on CPU. Above
    UNROLL_MAX_DIM coordinates (images) unrolling would make the program grow with d, so the
    matrix-product form is used, clamped at 0 (padding columns at +inf stay +inf).
    """
    if x.shape[1] <= UNROLL_MAX_DIM:
        return sum(jnp.square(x[:, k, None] - tile[k][None, :]) for k in range(x.shape[1]))
    finite = jnp.isfinite(tile[0])[None, :]
    y = jnp.where(jnp.isfinite(tile), tile, 0.0)
    d2 = jnp.sum(x**2, 1)[:, None] + jnp.sum(y**2, 0)[None, :] - 2.0 * (x @ y)
    return jnp.where(finite, jnp.maximum(d2, 0.0), jnp.inf)


def fold_tiles(
    x: jax.Array,
    tiles: jax.Array,
    reduce_tile: Callable[[jax.Array], jax.Array],
    combine: Callable[[jax.Array, jax.Array], jax.Array],
    init: float,
) -> jax.Array:
    """x (B, d), tiles (T, d, c) -> (B,): combine over tiles of reduce_tile(squared distances (B, c)).

    Call inside jit. Reducing per tile first and then across tiles is also a two-level
    summation, which keeps float32 row sums over 100k columns accurate.
    """

    def step(carry, tile):
        return combine(carry, reduce_tile(tile_sq_dists(x, tile))), None

    out, _ = jax.lax.scan(step, jnp.full(x.shape[0], init, x.dtype), tiles)
    return out


def row_reduce(
    kernel: Callable[..., jax.Array], x: np.ndarray, y: np.ndarray, block: int | None, *args
) -> np.ndarray:
    """Apply kernel(x_block (B, d), column_tiles(y) (T, d, c), *args) -> (B,) over row blocks of x (n, d).

    Returns the (n,) per-row results as float64 so callers accumulate on the host in double
    precision. The last block is padded to B rows and its padding results dropped, so the
    jitted kernel compiles once per (B, m, d).
    """
    block = ROWS if block is None else block
    if block < 1:
        raise DiffcliError(f"block must be a positive number of rows; got {block}")
    n = x.shape[0]
    block = min(block, n)
    n_blocks = -(-n // block)
    x = np.pad(x, ((0, n_blocks * block - n), (0, 0)))
    tiles = column_tiles(y)
    # Dispatch every block before reading any back, so host and device work overlap.
    parts = [kernel(x[i * block : (i + 1) * block], tiles, *args) for i in range(n_blocks)]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])[:n]
