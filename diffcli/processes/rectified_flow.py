"""Rectified flow (Liu et al. 2022): straight paths between data and a source.

x_t = t·x_noise + (1 − t)·x_data, t ~ U[0, 1]; the network regresses the constant velocity
v = dx_t/dt = x_noise − x_data (plain MSE). Generation integrates dx/dt = v_θ(x, t) from
t = 1 (source) to t = 0 (data).

As a path, α(t) = 1 − t and σ(t) = t with the source sample in the place of ε, so the
velocity converts to x̂0 and x̂_noise for any source, and to the score when the source is
N(0, I) (then likelihoods through the ODE exist too).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES, Apply
from diffcli.processes.parameterisation import Coeffs, coeffs_from
from diffcli.processes.sources import SOURCES, Source


@dataclass(frozen=True)
class RectifiedFlow:
    source: Source
    name: str = "rf"
    t0: float = 0.0
    t1: float = 1.0
    prediction: str = "velocity"
    n_timesteps: None = None

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({"ode"} | ({"score", "density"} if self.source.standard_normal else set()))

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return self.source.sample(key, shape)

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        return self.source.log_prob(x)

    def interpolate(self, x_data: jax.Array, x_noise: jax.Array, t: jax.Array) -> jax.Array:
        """x_t for x_data, x_noise of shape (n, dim) and t of shape (n,)."""
        return t[:, None] * x_noise + (1.0 - t[:, None]) * x_data

    def forward_sample(self, key: jax.Array, x_data: jax.Array, t: jax.Array) -> jax.Array:
        return self.interpolate(x_data, self.source.sample(key, x_data.shape), t)

    def coeffs(self, t: jax.Array) -> Coeffs:
        return coeffs_from(lambda u: 1.0 - u, lambda u: u, t)

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        kt, kn = jax.random.split(key)
        t = jax.random.uniform(kt, (x_data.shape[0],))
        x_noise = self.source.sample(kn, x_data.shape)
        v_pred = apply(self.interpolate(x_data, x_noise, t), t)
        return jnp.mean((v_pred - (x_noise - x_data)) ** 2)

    def predict(self, apply: Apply) -> Apply:
        return apply

    def net_from_prediction(self, pred: jax.Array, x: jax.Array, t: jax.Array) -> jax.Array:
        return pred

    def ode_drift(self, apply: Apply):
        def f(t, x):
            return apply(x, jnp.broadcast_to(t, x.shape[:1]).astype(x.dtype))

        return f


@PROCESSES.register("rf")
def rectified_flow(source: str = "gaussian", prediction: str = "", **_) -> RectifiedFlow:
    if prediction not in ("", "velocity"):
        raise DiffcliError(f"rf predicts the velocity; model.prediction {prediction!r} is not accepted")
    return RectifiedFlow(SOURCES.get(source))
