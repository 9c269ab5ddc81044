"""A Gaussian diffusion given by its schedule, and everything that follows from it.

A subclass states its schedule — α(t) and σ(t) of the forward marginal
x_t = α(t)·x0 + σ(t)·ε, ε ~ N(0, I) — its generation interval [t0, t1] and its prior's
standard deviation. Everything else is derived here, for every schedule alike:

  forward SDE     dx = f(t, x) dt + g(t) dW with the same marginals (Kingma et al. 2021, eq. 27ff):
                    f(t, x) = (α'/α)·x,     g(t)² = 2σσ' − 2(α'/α)·σ²
  reverse drift   f(t, x) − λ·g(t)²·∇log p_t(x): λ = 1 is the reverse-time SDE's drift (Anderson
                  1982), λ = ½ the probability-flow ODE (Song et al. 2021)
  training loss   squared error of the network's `prediction` (ε by default) against the same
                  quantity computed from (x0, ε), weighted by loss_weight (σ² for a score network)
  prior           N(0, prior_std² I) at t1

α' and σ' come from jax.jvp of the schedule (processes/parameterisation.py coeffs_from).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from diffcli.processes.base import Apply, Field, batch_t, row_sum
from diffcli.processes.parameterisation import (
    Coeffs,
    bcast,
    check_prediction,
    coeffs_from,
    convert,
    from_x0_eps,
    loss_weight,
)


@dataclass(frozen=True)
class Diffusion(ABC):
    prediction: str = "eps"  # what the network predicts: eps | score | x0 | velocity

    capabilities: ClassVar[frozenset[str]] = frozenset({"ode", "path", "score", "sde", "density"})
    n_timesteps: ClassVar[int | None] = None
    prior_std: ClassVar[float] = 1.0

    def __post_init__(self):
        check_prediction(self.prediction)

    # --- the schedule: supplied by each process (with name, t0, t1) -------------------------
    @abstractmethod
    def alpha(self, t: jax.Array) -> jax.Array:
        """α(t), elementwise."""

    @abstractmethod
    def sigma(self, t: jax.Array) -> jax.Array:
        """σ(t), elementwise."""

    # --- derived ----------------------------------------------------------------------------
    def coeffs(self, t: jax.Array) -> Coeffs:
        return coeffs_from(self.alpha, self.sigma, t)

    @staticmethod
    def _rate_g2(c: Coeffs) -> tuple[jax.Array, jax.Array]:
        """(α'/α, g² = 2σσ' − 2(α'/α)σ²) from the path's coefficients."""
        rate = c.d_alpha / c.alpha
        return rate, jnp.maximum(2 * c.sigma * c.d_sigma - 2 * rate * c.sigma**2, 0.0)

    def drift(self, t: jax.Array, x: jax.Array) -> jax.Array:
        """f(t, x) = (α'/α)·x of the forward SDE; t scalar, x (n, *shape)."""
        return self._rate_g2(self.coeffs(t))[0] * x

    def diffusion(self, t: jax.Array) -> jax.Array:
        """g(t) = sqrt(2σσ' − 2(α'/α)σ²) of the forward SDE, for scalar t (additive, isotropic noise)."""
        return jnp.sqrt(self._rate_g2(self.coeffs(t))[1])

    def reverse_drift(self, apply: Apply, lam: float) -> Field:
        """f(t, x) − λ·g(t)²·score(t, x): λ = 1 the reverse SDE's drift, λ = ½ the probability-flow ODE."""
        predict = self.predict(apply)

        def f(t, x):
            c = self.coeffs(t)  # once: the drift, g² and the score all come from it
            rate, g2 = self._rate_g2(c)
            score = convert(predict(batch_t(t, x), x), x, c, self.prediction, "score")
            return rate * x - lam * g2 * score

        return f

    def ode_drift(self, apply: Apply) -> Field:
        return self.reverse_drift(apply, 0.5)

    def sample_t(self, key: jax.Array, n: int) -> jax.Array:
        """Training times, shape (n,): uniform on [t0, t1]."""
        return jax.random.uniform(key, (n,), minval=self.t0, maxval=self.t1)

    def forward_sample(self, key: jax.Array, t: jax.Array, x_data: jax.Array) -> jax.Array:
        c = self.coeffs(t).like(x_data)
        return c.alpha * x_data + c.sigma * jax.random.normal(key, x_data.shape, x_data.dtype)

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        kt, kn = jax.random.split(key)
        t = self.sample_t(kt, x_data.shape[0])
        eps = jax.random.normal(kn, x_data.shape, x_data.dtype)
        c = self.coeffs(t)
        x_t = c.like(x_data).alpha * x_data + c.like(x_data).sigma * eps
        target = from_x0_eps(x_data, eps, c, self.prediction)
        err = (self.predict(apply)(t, x_t) - target) ** 2
        return jnp.mean(bcast(loss_weight(self.prediction, c), err) * err)

    def predict(self, apply: Apply) -> Apply:
        return apply

    def net_from_prediction(self, t: jax.Array, x: jax.Array, pred: jax.Array) -> jax.Array:
        return pred

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return self.prior_std * jax.random.normal(key, shape)

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        s = self.prior_std
        d = math.prod(x.shape[1:])
        return -0.5 * row_sum((x / s) ** 2) - d * math.log(s) - 0.5 * d * math.log(2 * math.pi)
