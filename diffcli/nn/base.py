"""Networks by name (`[network] name = "mlp"`): one file each in this folder, registered in NETWORKS.

A network is an nnx.Module class whose constructor takes the data's shape (per point, e.g. (2,)
or (8, 8, 1)) and `rngs`, then its options as keyword parameters (checked against its
signature), and whose __call__(t, x) maps times t (n,) and points x (n, *shape) to an output of
x's shape. The time features and activations every network may share live here too.

A network that takes labels (class-conditional models, conditioning.py) also accepts
`n_classes` (K) in its constructor and __call__(t, x, y) with labels y (n,) in [0, K], K being
the null label ∅ (y = None: ∅ for every row): `LabelEmbedding` adds a learnt vector per label
to the time embedding.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from diffcli.conditioning import null_labels
from diffcli.errors import DiffcliError, choice_error
from diffcli.registry import Registry

NETWORKS: Registry[Callable[..., nnx.Module]] = Registry("network", package="diffcli.nn",
                                                        inputs=("shape", "rngs", "n_classes"))

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


class LabelEmbedding(nnx.Module):
    """A learnt vector per label, K + 1 of them (the last is the null label ∅), initialised at 0
    so a conditional network starts as the unconditional one."""

    def __init__(self, n_classes: int, features: int, rngs: nnx.Rngs):
        self.n_classes = n_classes
        self.embed = nnx.Embed(n_classes + 1, features, embedding_init=nnx.initializers.zeros_init(), rngs=rngs)

    def __call__(self, y: jax.Array | None, n: int) -> jax.Array:
        """(n, features) for labels y (n,), or for ∅ when y is None."""
        return self.embed(null_labels(n, self.n_classes) if y is None else y)


def add_label(e: jax.Array, label: LabelEmbedding | None, y: jax.Array | None) -> jax.Array:
    """A time embedding e (n, k) with the label's embedding added (an unconditional network: e,
    and a label given to it is an error)."""
    if label is None:
        if y is not None:
            raise ValueError("this network was built without labels (n_classes = 0)")
        return e
    return e + label(y, e.shape[0])


def takes_labels(name: str) -> bool:
    import inspect

    entry = NETWORKS.get(name)
    return "n_classes" in inspect.signature(entry.__init__ if isinstance(entry, type) else entry).parameters


def build_network(name: str, options: dict, shape: tuple[int, ...], rngs: nnx.Rngs, n_classes: int = 0) -> nnx.Module:
    """The network `name`; n_classes > 0: conditional on labels (the entry must take them)."""
    if not n_classes:
        return NETWORKS.build(name, options, where="network.", shape=tuple(shape), rngs=rngs)
    if not takes_labels(name):
        raise DiffcliError(f"network {name!r} takes no labels (no n_classes parameter); a conditional model "
                           "(model.conditional = true) needs one that does: mlp or unet")
    return NETWORKS.build(name, options, where="network.", shape=tuple(shape), rngs=rngs, n_classes=n_classes)
