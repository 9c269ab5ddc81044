"""The reference network: sinusoidal time features, two input branches, residual MLP.

h = act(W_t·emb(t)) + act(W_x·x);  h ← h + act(W_k·h) for k = 1..depth;  out = W_o·h
emb(t) = [sin(t·f), cos(t·f)] for f = 2^0 … 2^(n_freqs−1) (raw t, no rescaling).
With residual=False the hidden layers are a plain MLP (h ← act(W_k·h)). Points of any shape are
flattened to vectors on the way in and reshaped on the way out. Conditional (n_classes > 0): the
label's embedding is added to W_t·emb(t) before the activation.
"""

from __future__ import annotations

import math

import jax
from flax import nnx

from diffcli.nn.base import NETWORKS, LabelEmbedding, activation_fn, add_label, positive, time_features


@NETWORKS.register("mlp")
class ResidualMLP(nnx.Module):
    """The reference residual MLP with sinusoidal time features."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        width: int = 256,
        depth: int = 3,
        n_freqs: int = 16,
        activation: str = "gelu",
        residual: bool = True,
        rngs: nnx.Rngs,
        n_classes: int = 0,
    ):
        positive(width=width, depth=depth, n_freqs=n_freqs)
        dim = math.prod(shape)
        self.n_freqs = n_freqs
        self.residual = residual
        self.act = activation_fn(activation)
        self.time_in = nnx.Linear(2 * n_freqs, width, rngs=rngs)
        self.x_in = nnx.Linear(dim, width, rngs=rngs)
        self.hidden = nnx.List([nnx.Linear(width, width, rngs=rngs) for _ in range(depth)])
        self.out = nnx.Linear(width, dim, rngs=rngs)
        self.label = LabelEmbedding(n_classes, width, rngs) if n_classes else None

    def __call__(self, t: jax.Array, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
        """t shape (n,), x shape (n, *shape), labels y (n,) or None -> (n, *shape)."""
        e = add_label(self.time_in(time_features(t, self.n_freqs)), self.label, y)
        h = self.act(e) + self.act(self.x_in(x.reshape(x.shape[0], -1)))
        for layer in self.hidden:
            h = h + self.act(layer(h)) if self.residual else self.act(layer(h))
        return self.out(h).reshape(x.shape)
