"""Networks by name (`[network] name = "mlp"`): one file each in this folder, registered in NETWORKS.

A network is an nnx.Module class whose constructor takes the data's shape (per point, e.g. (2,)
or (8, 8, 1)) and `rngs`, then its options as keyword parameters (checked against its
signature), and whose __call__(t, x) maps times t (n,) and points x (n, *shape) to an output of
x's shape. The time features and activations every network may share live here too.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from diffcli.errors import DiffcliError, choice_error
from diffcli.registry import Registry

NETWORKS: Registry[Callable[..., nnx.Module]] = Registry("network", package="diffcli.nn", inputs=("shape", "rngs"))

ACTIVATIONS = {
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
}


def activation_fn(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in ACTIVATIONS:
        raise choice_error("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]


def time_features(t: jax.Array, n_freqs: int) -> jax.Array:
    """Sinusoidal features of raw t: t shape (n,) -> (n, 2·n_freqs), [sin(t·2^k), cos(t·2^k)]."""
    ph = t[:, None] * (2.0 ** jnp.arange(n_freqs, dtype=t.dtype))[None, :]
    return jnp.concatenate([jnp.sin(ph), jnp.cos(ph)], axis=-1)


def positive(**values: int) -> None:
    """Each named network option must be a positive integer."""
    for k, v in values.items():
        if v <= 0:
            raise DiffcliError(f"network.{k} must be a positive integer, got {v}")


def build_network(name: str, options: dict, shape: tuple[int, ...], rngs: nnx.Rngs) -> nnx.Module:
    return NETWORKS.build(name, options, where="network.", shape=tuple(shape), rngs=rngs)
