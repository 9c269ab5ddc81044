"""What the diffusion SDEs (vpsde, vesde, ddpm) share, given their own α(t), σ(t), f and g.

A subclass states its schedule (alpha, sigma), its forward SDE (drift f(x, t), diffusion
g(t)) and its prior's standard deviation; this base turns them into the training loss, the
probability-flow ODE and the prior. Forward marginal: x_t = α(t)·x0 + σ(t)·ε, ε ~ N(0, I);
the network predicts `prediction` (ε by default) at (x_t, t), and its loss is the squared
error against the same quantity computed from (x0, ε), weighted by loss_weight (σ² for a
score network, 1 otherwise).

Probability-flow ODE (Song et al. 2021): dx/dt = f(x, t) − ½ g(t)² ∇log p_t(x).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from diffcli.processes.base import Apply, field
from diffcli.processes.parameterisation import Coeffs, coeffs_from, from_x0_eps, loss_weight


@dataclass(frozen=True)
class Diffusion(ABC):
    prediction: str = "eps"

    capabilities: ClassVar[frozenset[str]] = frozenset({"ode", "score", "sde", "density"})
    n_timesteps: ClassVar[int | None] = None

    # --- supplied by each process (and name, t0, t1) -------------------------------------
    @abstractmethod
    def alpha(self, t: jax.Array) -> jax.Array:
        """α(t), elementwise."""

    @abstractmethod
    def sigma(self, t: jax.Array) -> jax.Array:
        """σ(t), elementwise."""

    @abstractmethod
    def drift(self, x: jax.Array, t: jax.Array) -> jax.Array:
        """f(x, t) of the forward SDE: x (n, dim), t scalar."""

    @abstractmethod
    def diffusion(self, t: jax.Array) -> jax.Array:
        """g(t) of the forward SDE, for scalar t."""

    @property
    def prior_std(self) -> float:
        return 1.0

    # --- shared mechanics ---------------------------------------------------------------
    def coeffs(self, t: jax.Array) -> Coeffs:
        return coeffs_from(self.alpha, self.sigma, t)

    def sample_t(self, key: jax.Array, n: int) -> jax.Array:
        """Training times, shape (n,): uniform on [t0, t1]."""
        return jax.random.uniform(key, (n,), minval=self.t0, maxval=self.t1)

    def forward_sample(self, key: jax.Array, x_data: jax.Array, t: jax.Array) -> jax.Array:
        c = self.coeffs(t).col()
        return c.alpha * x_data + c.sigma * jax.random.normal(key, x_data.shape, x_data.dtype)

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        kt, kn = jax.random.split(key)
        t = self.sample_t(kt, x_data.shape[0])
        eps = jax.random.normal(kn, x_data.shape, x_data.dtype)
        c = self.coeffs(t)
        x_t = c.col().alpha * x_data + c.col().sigma * eps
        target = from_x0_eps(x_data, eps, c, self.prediction)
        err = (self.predict(apply)(x_t, t) - target) ** 2
        return jnp.mean(loss_weight(self.prediction, c)[:, None] * err)

    def predict(self, apply: Apply) -> Apply:
        return apply

    def net_from_prediction(self, pred: jax.Array, x: jax.Array, t: jax.Array) -> jax.Array:
        return pred

    def ode_drift(self, apply: Apply):
        score = field(self, apply, "score")

        def f(t, x):
            return self.drift(x, t) - 0.5 * self.diffusion(t) ** 2 * score(t, x)

        return f

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return self.prior_std * jax.random.normal(key, shape)

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        s = self.prior_std
        d = x.shape[-1]
        return -0.5 * jnp.sum((x / s) ** 2, -1) - d * math.log(s) - 0.5 * d * math.log(2 * math.pi)
