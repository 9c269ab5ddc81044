"""How a training batch pairs data points with source points: the coupling of (x0, x1).

Rectified flow regresses the velocity x1 − x0 of the straight line between a data point x0 and
a source point x1. Independent pairs (x0 ~ data, x1 ~ source drawn apart) give crossing lines, so
the learned field averages them and its paths curve. A minibatch optimal-transport coupling
(Tong et al. 2023, Pooladian et al. 2023) re-pairs each batch so that the pairs solve the OT
problem within it (squared Euclidean cost): the lines cross less and the paths straighten.

A coupling is one file in this folder registering a `Coupling`: `match(key, x0, x1, epsilon)`
returns x1's rows reordered (or resampled) to pair with x0's rows, for one block of b points
each, flattened to (b, d). `couple` cuts a batch into blocks of `block` points (the OT problem's
size: its cost grows as b² to b³) and matches every block, inside the compiled training step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.registry import Registry

MAX_BLOCK = 4096  # points per OT problem: a b × b cost matrix per block


@dataclass(frozen=True)
class Coupling:
    name: str
    summary: str
    # (key, x0 (b, d), x1 (b, d), epsilon) -> x1's rows paired with x0's, (b, d); None: keep x1 as drawn
    match: Callable[[jax.Array, jax.Array, jax.Array, float], jax.Array] | None = None
    uses_epsilon: bool = False  # whether `epsilon` (the entropic regularisation) means anything to it


COUPLINGS: Registry[Coupling] = Registry("coupling", package="diffcli.couplings")


def check_coupling(name: str, block: int, epsilon: float) -> Coupling:
    """The coupling `name` after checking its options (a process's __post_init__ calls this)."""
    c = COUPLINGS.get(name)
    if not (isinstance(block, int) and 0 <= block <= MAX_BLOCK):
        raise DiffcliError(f"model.coupling_block must be an integer in [0, {MAX_BLOCK}] "
                           f"(points per OT problem; 0 = the whole batch), got {block}")
    if not (epsilon > 0 and math.isfinite(epsilon)):
        raise DiffcliError(f"model.coupling_epsilon must be a finite number > 0 (a fraction of the "
                           f"mean cost), got {epsilon:g}")
    return c


def block_size(batch: int, block: int) -> int:
    """Points per OT problem for a batch: `block` (0: the whole batch), which must divide it."""
    b = batch if block == 0 else min(block, batch)
    if batch % b:
        raise DiffcliError(f"model.coupling_block ({block}) must divide train.batch ({batch}); "
                           f"e.g. {_divisor_near(batch, block)}")
    if b > MAX_BLOCK:
        raise DiffcliError(f"an OT problem of {b} points is above {MAX_BLOCK}; set model.coupling_block "
                           f"to a divisor of train.batch ({batch}) up to {MAX_BLOCK}")
    return b


def _divisor_near(n: int, b: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - b), d))


def couple(name: str, key: jax.Array, x0: jax.Array, x1: jax.Array, block: int, epsilon: float) -> jax.Array:
    """x1 (n, *shape) re-paired with x0 (n, *shape) by the coupling `name`, block by block."""
    c = COUPLINGS.get(name)
    if c.match is None:
        return x1
    n = x0.shape[0]
    b = block_size(n, block)
    flat0 = jax.lax.stop_gradient(x0).reshape(n // b, b, -1)
    flat1 = jax.lax.stop_gradient(x1).reshape(n // b, b, -1)
    keys = jax.random.split(key, n // b)
    out = jax.vmap(lambda k, a, z: c.match(k, a, z, epsilon))(keys, flat0, flat1)
    return out.reshape(x1.shape)


def sq_cost(x0: jax.Array, x1: jax.Array) -> jax.Array:
    """|x0_i − x1_j|², (b, b), the cost every OT coupling here minimises."""
    return jnp.sum((x0[:, None, :] - x1[None, :, :]) ** 2, axis=-1)
