"""Rectified flow (Liu et al. 2022): straight paths between data and a source.

x_t = t·x_noise + (1 − t)·x_data, t ~ U[0, 1]; the network regresses the constant velocity
v = dx_t/dt = x_noise − x_data (plain MSE). Generation integrates dx/dt = v_θ(t, x) from
t = 1 (source) to t = 0 (data).

As a path, α(t) = 1 − t and σ(t) = t with the source sample in the place of ε, so the
velocity converts to x̂0 and x̂_noise for any source, and to the score when the source is
N(0, I) (then likelihoods through the ODE exist too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from diffcli.couplings.base import check_coupling
from diffcli.processes.base import PROCESSES, Apply, Field, batch_t
from diffcli.processes.parameterisation import Coeffs, bcast, coeffs_from
from diffcli.processes.sources import Source, get_source, paired_noise


@PROCESSES.register("rf")
@dataclass(frozen=True)
class RectifiedFlow:
    """Rectified flow (Liu et al. 2022): straight interpolation, velocity regression."""

    source: str = "gaussian"  # the prior at t = 1: a registered source or data set (processes/sources.py)
    coupling: str = "independent"  # how a batch pairs data with source points (diffcli/couplings/)
    coupling_block: int = 32  # points per minibatch OT problem (0: the whole batch)
    coupling_epsilon: float = 0.01  # sinkhorn's entropic regularisation, a fraction of the mean cost

    name: ClassVar[str] = "rf"
    t0: ClassVar[float] = 0.0
    t1: ClassVar[float] = 1.0
    prediction: ClassVar[str] = "velocity"
    n_timesteps: ClassVar[None] = None

    def __post_init__(self):
        get_source(self.source)  # an unknown source is an error naming the known ones
        check_coupling(self.coupling, self.coupling_block, self.coupling_epsilon)

    @property
    def src(self) -> Source:
        return get_source(self.source)

    @property
    def capabilities(self) -> frozenset[str]:
        # x̂0 = x − t·v holds for any coupling (path, ode); likelihoods need the source's density;
        # the score (Tweedie's formula) needs x_noise ~ N(0, I) independent of x0.
        gaussian = self.src.standard_normal
        return frozenset({"ode", "path"} | ({"density"} if gaussian else set())
                         | ({"score"} if gaussian and self.coupling == "independent" else set()))

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return self.src.sample(key, shape)

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        return self.src.log_prob(x)

    def interpolate(self, t: jax.Array, x_data: jax.Array, x_noise: jax.Array) -> jax.Array:
        """x_t for t of shape (n,) and x_data, x_noise of shape (n, *shape)."""
        t = bcast(t, x_data)
        return t * x_noise + (1.0 - t) * x_data

    def forward_sample(self, key: jax.Array, t: jax.Array, x_data: jax.Array) -> jax.Array:
        return self.interpolate(t, x_data, self.src.sample(key, x_data.shape))

    def coeffs(self, t: jax.Array) -> Coeffs:
        return coeffs_from(lambda u: 1.0 - u, lambda u: u, t)

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array, x_noise: jax.Array | None = None,
             t: jax.Array | None = None) -> jax.Array:
        """The velocity regression on x_data paired with x_noise (given: reflow's pairs; else drawn
        and coupled), at times t (given: distillation's t = 1; else U[0, 1])."""
        kt, kn = jax.random.split(key)
        t = jax.random.uniform(kt, (x_data.shape[0],)) if t is None else t
        x_noise = paired_noise(self, kn, x_data, x_noise)
        v_pred = apply(t, self.interpolate(t, x_data, x_noise))
        return jnp.mean((v_pred - (x_noise - x_data)) ** 2)

    def predict(self, apply: Apply) -> Apply:
        return apply

    def net_from_prediction(self, t: jax.Array, x: jax.Array, pred: jax.Array) -> jax.Array:
        return pred

    def ode_drift(self, apply: Apply) -> Field:
        def f(t, x):
            return apply(batch_t(t, x), x)

        return f
