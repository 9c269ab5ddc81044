"""What every process (a forward noising SDE or an interpolant) provides.

Time convention everywhere in diffcli: t = 0 is data, t = 1 is the prior (noise); generation
integrates from t1 (prior end) down to t0 (data end).
"""

from __future__ import annotations

from typing import Callable, Protocol

import jax

from diffcli.registry import Registry

# apply(x, t) -> network output; x shape (n, dim), t shape (n,).
Apply = Callable[[jax.Array, jax.Array], jax.Array]


class Process(Protocol):
    name: str
    t0: float  # data end of the generation interval
    t1: float  # prior end of the generation interval

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Draw x at t1 (the prior), shape (n, dim)."""

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        """Scalar training loss on a data batch x_data, shape (n, dim)."""

    def ode_drift(self, apply: Apply) -> Callable[[jax.Array, jax.Array], jax.Array]:
        """dx/dt of the probability-flow ODE: f(t, x) with t a scalar, x shape (n, dim)."""


PROCESSES: Registry[Callable[..., Process]] = Registry("model")
