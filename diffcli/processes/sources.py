"""Source (prior) distributions at t = 1 for processes whose prior is a free choice.

A registered source samples points of shape (n, *shape) and knows its log-density, so
likelihoods through the probability-flow ODE can be computed (log p_1(x_1)). Any registered
data set is a source too, at its default options (`[model] source = "8gaussians"`): then the
flow transports data to data; such a source has no density, so no likelihoods.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from diffcli.errors import DiffcliError
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
    shape: tuple[int, ...] | None = None  # the point shape it draws; None: any


SOURCES: Registry[Source] = Registry("source")


def get_source(name: str) -> Source:
    """The registered source `name`, else the registered data set `name` as a source."""
    if name in SOURCES:
        return SOURCES.get(name)
    from diffcli.data.base import DATASETS

    if name not in DATASETS or name == "file":
        data = ", ".join(n for n in DATASETS.names() if n not in SOURCES and n != "file")
        raise DiffcliError(f"unknown source {name!r}; accepted: {', '.join(SOURCES.names())}, or a data set: {data}")
    return _dataset_source(name)


@functools.cache
def _dataset_source(name: str) -> Source:
    from diffcli.data.base import get_dataset

    data = get_dataset(name)

    def sample(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        if tuple(shape[1:]) != data.shape:
            raise DiffcliError(f"source {name!r} draws points of shape {data.shape}, the data's are {tuple(shape[1:])}")
        return data.sample(key, shape[0])

    def log_prob(x: jax.Array) -> jax.Array:
        raise DiffcliError(f"source {name!r} is a data set: it has no density, so no likelihoods")

    return Source(name, sample, log_prob, shape=data.shape)



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


COUPLING_SALT = 0xC0B1ED  # the coupling's key: fold_in(source key, salt), apart from every key the source splits


def paired_noise(process, key: jax.Array, x_data: jax.Array, x_noise: jax.Array | None = None) -> jax.Array:
    """The source points paired with the data batch x_data for an interpolant's loss: `x_noise`
    as given (reflow's stored pairs), else drawn from the process's source with `key` and
    re-paired by its coupling (diffcli/couplings/) with a key of its own. An independent
    coupling draws exactly what it always drew."""
    if x_noise is not None:
        return x_noise
    from diffcli.couplings import couple

    x_noise = process.src.sample(key, x_data.shape)
    return couple(process.coupling, jax.random.fold_in(key, COUPLING_SALT), x_data, x_noise,
                  process.coupling_block, process.coupling_epsilon)
