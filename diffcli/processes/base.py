"""What every process (a forward noising SDE or an interpolant) provides.

Time convention everywhere in diffcli: t = 0 is data, t = 1 is the prior (noise); generation
integrates from t1 (prior end) down to t0 (data end).

A process states what it can do as `capabilities`, and samplers ask for a capability, never
for a process by name or type (sampling/registry.py):

    "ode"        ode_drift: the probability-flow ODE (or flow-matching velocity) from the network
    "score"      coeffs(t) of a Gaussian path x_t = α·x0 + σ·ε with ε ~ N(0, I), so the network
                 output converts to ε, score, x0 and velocity (processes/parameterisation.py)
    "sde"        a forward SDE dx = f(x, t) dt + g(t) dW with those marginals: drift(x, t),
                 diffusion(t); hence a reverse-time SDE and DDIM
    "timesteps"  a discrete chain of n_timesteps steps at t = i / n_timesteps (DDPM)
    "bridge"     posterior(x_t, x̂0, t, s): the exact Brownian-bridge step from t down to s
    "density"    a probability-flow ODE and a smooth prior log-density: exact likelihoods
"""

from __future__ import annotations

from typing import Callable, Protocol

import jax
import jax.numpy as jnp

from diffcli.processes.parameterisation import Coeffs, convert
from diffcli.registry import Registry

# apply(x, t) -> network output; x shape (n, dim), t shape (n,).
Apply = Callable[[jax.Array, jax.Array], jax.Array]

CAPABILITIES = ("ode", "score", "sde", "timesteps", "bridge", "density")


class Process(Protocol):
    name: str
    t0: float  # data end of the continuous generation interval
    t1: float  # prior end of the generation interval
    prediction: str  # what the network's prediction is: "eps" | "score" | "x0" | "velocity"
    capabilities: frozenset[str]
    n_timesteps: int | None  # discrete processes: the chain's length T; None in continuous time

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Draw x at t1 (the prior), shape (n, dim)."""

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        """log density of the prior at x of shape (n, dim) -> (n,)."""

    def forward_sample(self, key: jax.Array, x_data: jax.Array, t: jax.Array) -> jax.Array:
        """x_t drawn from the forward marginal (or interpolant) given x_data (n, dim), t (n,)."""

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        """Scalar training loss on a data batch x_data, shape (n, dim)."""

    def predict(self, apply: Apply) -> Apply:
        """The network as a `prediction`: applies the process's output scaling (bridge: x̂0 = x + (t + c)·net)."""

    def net_from_prediction(self, pred: jax.Array, x: jax.Array, t: jax.Array) -> jax.Array:
        """Inverse of predict: the raw network output that yields `pred` at (x, t)."""

    def ode_drift(self, apply: Apply) -> Callable[[jax.Array, jax.Array], jax.Array]:
        """dx/dt of the probability-flow ODE: f(t, x) with t a scalar, x shape (n, dim)."""


class GaussianPath(Process, Protocol):
    """x_t = α(t)·x0 + σ(t)·ε: conversions between x0, ε and velocity; with capability
    "score" ε is Gaussian, so the score too."""

    def coeffs(self, t: jax.Array) -> Coeffs:
        """(α, σ, α', σ') at t (scalar or (n,)), each shaped like t."""


class SDEProcess(GaussianPath, Protocol):
    """Capability "sde": the forward SDE dx = f(x, t) dt + g(t) dW whose marginals are the path's."""

    def drift(self, x: jax.Array, t: jax.Array) -> jax.Array:
        """f(x, t): x (n, dim), t scalar -> (n, dim)."""

    def diffusion(self, t: jax.Array) -> jax.Array:
        """g(t) for scalar t (the noise is additive and isotropic)."""


class BridgeProcess(Process, Protocol):
    """Capability "bridge": the exact posterior q(x_s | x_t, x0) of the interpolant, s < t."""

    def posterior(self, x_t: jax.Array, x0: jax.Array, t: jax.Array, s: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(mean (n, dim), std scalar) of x_s given x_t and x0."""


def field(process: GaussianPath, apply: Apply, dst: str) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """The network, at time t (a scalar) and x (n, dim), as the quantity `dst` (eps, score, x0 or velocity)."""
    predict = process.predict(apply)

    def f(t, x):
        tt = jnp.broadcast_to(t, x.shape[:1]).astype(x.dtype)
        return convert(predict(x, tt), x, process.coeffs(t), process.prediction, dst)

    return f


PROCESSES: Registry[Callable[..., Process]] = Registry("model")
