"""What every process (a forward noising SDE or an interpolant) provides.

Time convention everywhere in diffcli: t = 0 is data, t = 1 is the prior (noise); generation
integrates from t1 (prior end) down to t0 (data end). Argument order everywhere: time first,
then state — f(t, x), like diffrax's vector fields; the network too is net(t, x).
Shapes: x is (n, *shape) (points (n, d), images (n, H, W, C)); t is a scalar or (n,).

A process states what it can do as `capabilities`, and samplers ask for capabilities, never
for a process by name or type (sampling/registry.py):

    "ode"        ode_drift: the probability-flow ODE (or flow-matching velocity) from the network
    "path"       coeffs(t) of an affine path x_t = α·x0 + σ·ε, so the network output converts
                 between x0, ε and velocity (processes/parameterisation.py)
    "score"      that path's ε is N(0, I), so the score −ε̂/σ exists too
    "sde"        a forward SDE dx = f(t, x) dt + g(t) dW with those marginals: drift(t, x),
                 diffusion(t), reverse_drift(apply, λ); hence the reverse-time SDE and DDIM
    "timesteps"  a discrete chain of n_timesteps steps at t = i / n_timesteps (DDPM)
    "bridge"     posterior(t, s, x_t, x̂0): the exact Brownian-bridge step from t down to s
    "density"    a probability-flow ODE and a smooth prior log-density: exact likelihoods

A process is one file in this folder: a frozen dataclass (or factory) registered in PROCESSES;
its init fields are its options (`[model] sigma_max = 20.0`), validated in __post_init__.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import jax
import jax.numpy as jnp

from diffcli.conditioning import Conditioning
from diffcli.processes.parameterisation import convert
from diffcli.registry import Registry, options_of

# apply(t, x) -> network output; t shape (n,), x shape (n, *shape).
Apply = Callable[[jax.Array, jax.Array], jax.Array]
# A field f(t, x): t a scalar, x (n, *shape) -> (n, *shape).
Field = Callable[[jax.Array, jax.Array], jax.Array]


class Process(Protocol):
    name: str
    t0: float  # data end of the continuous generation interval
    t1: float  # prior end of the generation interval
    prediction: str  # what the network's prediction is: "eps" | "score" | "x0" | "velocity"
    capabilities: frozenset[str]
    n_timesteps: int | None  # discrete processes: the chain's length T; None in continuous time

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Draw x at t1 (the prior), shape (n, *shape)."""

    def prior_log_prob(self, x: jax.Array) -> jax.Array:
        """log density of the prior at x of shape (n, *shape) -> (n,)."""

    def forward_sample(self, key: jax.Array, t: jax.Array, x_data: jax.Array) -> jax.Array:
        """x_t drawn from the forward marginal (or interpolant) given t (n,) and x_data (n, *shape)."""

    def loss(self, apply: Apply, key: jax.Array, x_data: jax.Array) -> jax.Array:
        """Scalar training loss on a data batch x_data, shape (n, *shape)."""

    def predict(self, apply: Apply) -> Apply:
        """The network as a `prediction`: applies the process's output scaling (bridge: x̂0 = x + (t + c)·net)."""

    def net_from_prediction(self, t: jax.Array, x: jax.Array, pred: jax.Array) -> jax.Array:
        """Inverse of predict: the raw network output that yields `pred` at (t, x)."""

    def ode_drift(self, apply: Apply) -> Field:
        """dx/dt of the probability-flow ODE: f(t, x) with t a scalar, x shape (n, *shape)."""


def batch_t(t: jax.Array, x: jax.Array) -> jax.Array:
    """A scalar time as one time per row of x: shape (n,), x's dtype."""
    return jnp.broadcast_to(t, x.shape[:1]).astype(x.dtype)


def row_sum(v: jax.Array) -> jax.Array:
    """Sum over every axis but the first: (n, *shape) -> (n,)."""
    return jnp.sum(v, axis=tuple(range(1, v.ndim)))


def field(process, apply: Apply, dst: str) -> Field:
    """The network, at time t (a scalar) and x (n, *shape), as the quantity `dst` (eps, score, x0
    or velocity); needs capability "path" ("score" for dst = score)."""
    predict = process.predict(apply)

    def f(t, x):
        return convert(predict(batch_t(t, x), x), x, process.coeffs(t), process.prediction, dst)

    return f


# [model] conditional and label_dropout belong to every process; the training step acts on them.
PROCESSES: Registry[Callable[..., Process]] = Registry("model", package="diffcli.processes",
                                                       common=options_of(Conditioning))
