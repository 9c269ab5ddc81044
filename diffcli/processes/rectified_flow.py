"""Rectified flow (Liu et al. 2022): straight paths between data and a source.

x_t = t·x_noise + (1 − t)·x_data, t ~ U[0, 1]; the network regresses the constant velocity
v = dx_t/dt = x_noise − x_data (plain MSE). Generation integrates dx/dt = v_θ(x, t) from
t = 1 (source) to t = 0 (data).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from diffcli.processes.base import PROCESSES, Apply
from diffcli.processes.sources import SOURCES, Source


@dataclass(frozen=True)
class RectifiedFlow:
    source: Source
    name: str = "rf"
    t0: float = 0.0
    t1: float = 1.0

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return self.source.sample(key, shape)

    def interpolate(self, x_data: jax.Array, x_noise: jax.Array, t: jax.Array) -> jax.Array:
        """x_t for x_data, x_noise of shape (n, dim) and t of shape (n,)."""
        return t[:, None] * x_noise + (1.0 - t[:, None]) * x_data

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        kt, kn = jax.random.split(key)
        t = jax.random.uniform(kt, (x_data.shape[0],))
        x_noise = self.source.sample(kn, x_data.shape)
        v_pred = apply(self.interpolate(x_data, x_noise, t), t)
        return jnp.mean((v_pred - (x_noise - x_data)) ** 2)

    def ode_drift(self, apply: Apply):
        def f(t, x):
            return apply(x, jnp.broadcast_to(t, x.shape[:1]).astype(x.dtype))

        return f


@PROCESSES.register("rf")
def rectified_flow(source: str = "gaussian", **_) -> RectifiedFlow:
    return RectifiedFlow(SOURCES.get(source))
