"""The reference network: sinusoidal time features, two input branches, residual MLP.

h = act(W_t·emb(t)) + act(W_x·x);  h ← h + act(W_k·h) for k = 1..depth;  out = W_o·h
emb(t) = [sin(t·f), cos(t·f)] for f = 2^0 … 2^(n_freqs−1) (raw t, no rescaling).
With residual=False the hidden layers are a plain MLP (h ← act(W_k·h)).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from diffcli.errors import choice_error

ACTIVATIONS = {
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
}


def time_features(t: jax.Array, n_freqs: int) -> jax.Array:
    """t shape (n,) -> (n, 2·n_freqs)."""
    ph = t[:, None] * (2.0 ** jnp.arange(n_freqs, dtype=t.dtype))[None, :]
    return jnp.concatenate([jnp.sin(ph), jnp.cos(ph)], axis=-1)


class ResidualMLP(nnx.Module):
    def __init__(
        self,
        dim: int,
        *,
        width: int = 256,
        depth: int = 3,
        n_freqs: int = 16,
        activation: str = "gelu",
        residual: bool = True,
        rngs: nnx.Rngs,
    ):
        if activation not in ACTIVATIONS:
            raise choice_error("activation", activation, ACTIVATIONS)
        self.n_freqs = n_freqs
        self.residual = residual
        self.act = ACTIVATIONS[activation]
        self.time_in = nnx.Linear(2 * n_freqs, width, rngs=rngs)
        self.x_in = nnx.Linear(dim, width, rngs=rngs)
        self.hidden = nnx.List([nnx.Linear(width, width, rngs=rngs) for _ in range(depth)])
        self.out = nnx.Linear(width, dim, rngs=rngs)

    def __call__(self, x: jax.Array, t: jax.Array) -> jax.Array:
        """x shape (n, dim), t shape (n,) -> (n, dim)."""
        h = self.act(self.time_in(time_features(t, self.n_freqs))) + self.act(self.x_in(x))
        for layer in self.hidden:
            h = h + self.act(layer(h)) if self.residual else self.act(layer(h))
        return self.out(h)
