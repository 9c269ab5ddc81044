"""Closed forms for Gaussian data x0 ~ N(μ, Σ): the ideal network, marginals, flow map, NLL.

For a Gaussian path x_t = α·x0 + σ·ε (capability "score") the marginal is
p_t = N(α μ, C_t) with C_t = α² Σ + σ² I. With Σ = U diag(λ) Uᵀ every C_t is diagonal in the
same basis, so, writing y = Uᵀ(x − α μ) and D = α² λ + σ² (elementwise):

    E[x0 | x_t = x] = μ + U (α λ / D · y)        E[ε | x_t = x] = U (σ / D · y)
    score           = −U (y / D)

and the probability-flow ODE keeps z = D^{-1/2}·y constant along every trajectory (its field
is ṁ + ½ Ċ C⁻¹ (x − m)), which gives its exact solution between any two times. Tests put
`oracle(process)` in place of the network and compare samplers and likelihoods against these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError
from diffcli.processes.parameterisation import from_x0_eps


class Gaussian(NamedTuple):
    """N(mean, U diag(evals) Uᵀ); a pytree, so it can be passed as the oracle's 'params'."""

    mean: jax.Array  # (d,)
    evals: jax.Array  # (d,)
    evecs: jax.Array  # (d, d), columns are eigenvectors

    @property
    def cov(self) -> jax.Array:
        return (self.evecs * self.evals) @ self.evecs.T


def gaussian(mean, cov) -> Gaussian:
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    evals, evecs = np.linalg.eigh(cov)
    if evals.min() <= 0:
        raise DiffcliError(f"covariance must be positive definite; its smallest eigenvalue is {evals.min():g}")
    # float64 inputs become the default float: float32, or float64 under jax.enable_x64
    return Gaussian(jnp.asarray(mean), jnp.asarray(evals), jnp.asarray(evecs))


def _need_path(process) -> None:
    if "score" not in process.capabilities:
        raise DiffcliError(f"model {process.name!r} is not a Gaussian path here, so it has no closed-form oracle")


def _parts(process, g: Gaussian, t):
    """(α, σ, D) with α, σ shaped like t plus a trailing axis and D = α²λ + σ²."""
    c = jax.tree.map(lambda a: jnp.asarray(a)[..., None], process.coeffs(t))
    return c, c.alpha**2 * g.evals + c.sigma**2


def _flat(x: jax.Array) -> jax.Array:
    """Points of any shape (n, *shape) as vectors (n, d): the Gaussian lives on the flattened space."""
    return x.reshape(x.shape[0], -1)


def posterior_x0_eps(process, g: Gaussian, t: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(E[x0 | x_t = x], E[ε | x_t = x]) for t (n,) or scalar and x (n, *shape), d = prod(shape)."""
    _need_path(process)
    c, D = _parts(process, g, t)
    y = (_flat(x) - c.alpha * g.mean) @ g.evecs
    x0, eps = g.mean + (c.alpha * g.evals / D * y) @ g.evecs.T, (c.sigma / D * y) @ g.evecs.T
    return x0.reshape(x.shape), eps.reshape(x.shape)


def oracle(process) -> Callable[[Gaussian], Callable[[jax.Array, jax.Array], jax.Array]]:
    """apply_fn(g) -> net(t, x): the ideal network of `process` for data N(g), in the process's
    own parameterisation and output scaling (so process.predict(net) is the exact prediction)."""
    _need_path(process)

    def apply_fn(g: Gaussian):
        def net(t, x):
            x0, eps = posterior_x0_eps(process, g, t, x)
            pred = from_x0_eps(x0, eps, process.coeffs(t), process.prediction)
            return process.net_from_prediction(t, x, pred)

        return net

    return apply_fn


def marginal(process, g: Gaussian, t: float) -> tuple[jax.Array, jax.Array]:
    """(mean (d,), covariance (d, d)) of x_t for a scalar t."""
    _need_path(process)
    c, D = _parts(process, g, jnp.asarray(t, g.mean.dtype))
    return c.alpha * g.mean, (g.evecs * D) @ g.evecs.T


def flow_map(process, g: Gaussian, t_from: float, t_to: float, x: jax.Array) -> jax.Array:
    """The exact probability-flow ODE solution from t_from to t_to for x of shape (n, *shape)."""
    _need_path(process)
    ca, Da = _parts(process, g, jnp.asarray(t_from, x.dtype))
    cb, Db = _parts(process, g, jnp.asarray(t_to, x.dtype))
    z = ((_flat(x) - ca.alpha * g.mean) @ g.evecs) / jnp.sqrt(Da)
    return (cb.alpha * g.mean + (z * jnp.sqrt(Db)) @ g.evecs.T).reshape(x.shape)


def log_prob(g: Gaussian, x: jax.Array, mean: jax.Array | None = None, evals: jax.Array | None = None) -> jax.Array:
    """log N(x; mean, U diag(evals) Uᵀ) per row, defaulting to g's own mean and eigenvalues."""
    mean = g.mean if mean is None else mean
    evals = g.evals if evals is None else evals
    x = _flat(x)
    y = (x - mean) @ g.evecs
    d = x.shape[-1]
    return -0.5 * jnp.sum(y**2 / evals, -1) - 0.5 * jnp.sum(jnp.log(evals)) - 0.5 * d * math.log(2 * math.pi)


def model_nll(process, g: Gaussian, x: jax.Array) -> jax.Array:
    """Exact per-point NLL in nats (n,) that the ideal network's probability-flow ODE assigns
    to x at t0, with the process's own prior at t1:
    −log prior(Φ(x)) − log|det ∂Φ/∂x|, Φ the exact flow map t0 → t1. Equals −log p_t0(x)
    wherever the prior is the true t1 marginal."""
    _, D0 = _parts(process, g, jnp.asarray(process.t0, x.dtype))
    _, D1 = _parts(process, g, jnp.asarray(process.t1, x.dtype))
    x1 = flow_map(process, g, process.t0, process.t1, x)
    logdet = 0.5 * jnp.sum(jnp.log(D1) - jnp.log(D0))
    return -process.prior_log_prob(x1) - logdet


def kl_to_prior(process, g: Gaussian, prior_std: float, prior_mean: Any = 0.0) -> float:
    """KL(p_t1 ‖ N(prior_mean, prior_std² I)) in nats per dimension, for a Gaussian prior."""
    m, C = marginal(process, g, process.t1)
    m, C = np.asarray(m, np.float64), np.asarray(C, np.float64)
    d = m.shape[0]
    s2 = prior_std**2
    dm = m - prior_mean
    kl = 0.5 * (np.trace(C) / s2 - d + dm @ dm / s2 + d * math.log(s2) - np.linalg.slogdet(C)[1])
    return float(kl / d)
