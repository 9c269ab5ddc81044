"""Source (prior) distributions at t = 1 for processes whose prior is a free choice.

Each source samples points of shape (n, *shape) and knows its log-density, so likelihoods
through the probability-flow ODE can be computed (log p_1(x_1)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from diffcli.processes.base import row_sum
from diffcli.registry import Registry


@dataclass(frozen=True)
class Source:
    name: str
    sample: Callable[[jax.Array, tuple[int, ...]], jax.Array]  # (key, (n, *shape)) -> (n, *shape)
    log_prob: Callable[[jax.Array], jax.Array]  # (n, *shape) -> (n,)
    # N(0, I): then an interpolant's noise is Gaussian (scores exist) and log_prob is smooth
    # (likelihoods through the ODE exist).
    standard_normal: bool = False


SOURCES: Registry[Source] = Registry("source")



def _gaussian_logp(x: jax.Array) -> jax.Array:
    return -0.5 * row_sum(x**2) - 0.5 * math.prod(x.shape[1:]) * math.log(2 * math.pi)


def _square_logp(x: jax.Array) -> jax.Array:
    inside = jnp.all(((x >= 2.0) & (x <= 3.0)).reshape(x.shape[0], -1), axis=1)
    return jnp.where(inside, 0.0, -jnp.inf)  # unit volume


SOURCES.register("gaussian")(
    Source("gaussian", lambda k, s: jax.random.normal(k, s), _gaussian_logp, standard_normal=True)
)
# The reference implementation's source: uniform on the square [2, 3]^d.
SOURCES.register("uniform-square")(
    Source("uniform-square", lambda k, s: jax.random.uniform(k, s, minval=2.0, maxval=3.0), _square_logp)
)
