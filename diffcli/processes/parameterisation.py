"""Coefficients of a Gaussian path and the conversions between what a network can predict.

Every process here writes its forward marginal as

    x_t = α(t)·x0 + σ(t)·ε,        x0 ~ data, ε ~ N(0, I) independent of x0,

(t = 0 is data, t = 1 is the prior). Given the network's output at (t, x_t) in one
parameterisation, the others follow from (α, σ) and their time derivatives alone:

    x_t      = α·x̂0 + σ·ε̂               (conditional expectations are linear)
    score    = −ε̂ / σ                     (Tweedie; needs ε Gaussian)
    velocity = α'·x̂0 + σ'·ε̂              (the probability-flow / flow-matching field)

so a process never converts by hand, and nothing here asks which process it is. The four
names are "eps", "score", "x0" and "velocity". For rectified flow with a non-Gaussian
source, ε is the source sample: every conversion but the score still holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from diffcli.errors import choice_error

PREDICTIONS = ("eps", "score", "x0", "velocity")


class Coeffs(NamedTuple):
    """α(t), σ(t), dα/dt, dσ/dt, each shaped like the t they were computed at."""

    alpha: jax.Array
    sigma: jax.Array
    d_alpha: jax.Array
    d_sigma: jax.Array

    def like(self, x: jax.Array) -> Coeffs:
        """Each coefficient shaped to broadcast against x of shape (n, *shape): a scalar stays a
        scalar, a per-row (n,) coefficient gains trailing axes."""
        return Coeffs(*(bcast(c, x) for c in self))


def bcast(c: jax.Array, x: jax.Array) -> jax.Array:
    """c of shape () or (n,) with trailing axes added so it broadcasts against x (n, *shape)."""
    c = jnp.asarray(c)
    return c.reshape(c.shape + (1,) * (x.ndim - c.ndim)) if c.ndim else c


def coeffs_from(alpha: Callable, sigma: Callable, t: jax.Array) -> Coeffs:
    """Coeffs of elementwise schedules alpha(t), sigma(t); derivatives by forward-mode AD."""
    t = jnp.asarray(t, dtype=jnp.result_type(t, jnp.float32))
    a, da = jax.jvp(alpha, (t,), (jnp.ones_like(t),))
    s, ds = jax.jvp(sigma, (t,), (jnp.ones_like(t),))
    return Coeffs(a, s, da, ds)


def check_prediction(name: str) -> str:
    if name not in PREDICTIONS:
        raise choice_error("prediction", name, PREDICTIONS)
    return name


def to_x0_eps(out: jax.Array, x: jax.Array, c: Coeffs, src: str) -> tuple[jax.Array, jax.Array]:
    """(x̂0, ε̂) from a prediction `out` of kind `src` at x_t = x. out, x: (n, *shape); c per row or scalar."""
    a, s, da, ds = c.like(x)
    if src == "eps":
        return (x - s * out) / a, out
    if src == "score":
        eps = -s * out
        return (x - s * eps) / a, eps
    if src == "x0":
        return out, (x - a * out) / s
    if src == "velocity":
        # Solve [α' σ'; α σ]·[x̂0; ε̂] = [v; x_t]; det = α'σ − ασ' is nonzero for a path
        # that actually moves from data to noise.
        det = da * s - a * ds
        return (s * out - ds * x) / det, (da * x - a * out) / det
    raise choice_error("prediction", src, PREDICTIONS)


def from_x0_eps(x0: jax.Array, eps: jax.Array, c: Coeffs, dst: str) -> jax.Array:
    """The prediction of kind `dst` that corresponds to (x̂0, ε̂)."""
    a, s, da, ds = c.like(x0)
    if dst == "eps":
        return eps
    if dst == "score":
        return -eps / s
    if dst == "x0":
        return x0
    if dst == "velocity":
        return da * x0 + ds * eps
    raise choice_error("prediction", dst, PREDICTIONS)


def convert(out: jax.Array, x: jax.Array, c: Coeffs, src: str, dst: str) -> jax.Array:
    """Re-express a `src` prediction at x_t = x as a `dst` prediction."""
    if src == dst:
        return out
    return from_x0_eps(*to_x0_eps(out, x, c, src), c, dst)


def loss_weight(prediction: str, c: Coeffs) -> jax.Array:
    """Per-row weight of the squared error: σ² for a score network (Song et al. 2021's
    λ(t) = σ², which makes it the ε loss in disguise), 1 otherwise."""
    return c.sigma**2 if prediction == "score" else jnp.ones_like(c.sigma)
