"""A Brownian bridge from data to a source, with x0-prediction and exact posterior steps.

    x_t = (1 − t)·x0 + t·x1 + s_b·sqrt(t(1 − t))·z,   x1 ~ source, z ~ N(0, I),  s_b = 0.387.

The noise vanishes at both ends, pinning x_0 to the data and x_1 to the source sample. The
network predicts x0 through a skip connection, x̂0 = x_t + (t + 0.05)·net(t, x_t), so the
correction it learns shrinks to zero at t → 0 where x_t ≈ x0 already; the loss is
E[(x̂0 − x0)² / (t + 0.05)²] on t ~ U[1e-3, 1 − 1e-3].

Sampling uses the bridge's exact posterior (the bridge from (0, x0) to (t, x_t)):

    x_s | x_t, x0 ~ N( (t − s)/t · x0 + s/t · x_t,  s_b²·s(t − s)/t · I ),   s < t,

with x0 replaced by x̂0. With the gaussian source, t·x1 + s_b·sqrt(t(1 − t))·z is Gaussian,
so x_t = (1 − t)·x0 + σ(t)·ε with σ(t)² = t² + s_b²·t(1 − t): a Gaussian path, which gives the
score, the probability-flow ODE and likelihoods. With the uniform-square source there is no
closed-form velocity from x̂0 alone, so only the posterior steps apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from diffcli.couplings.base import check_coupling
from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES, Apply, Field, field
from diffcli.processes.parameterisation import Coeffs, bcast, coeffs_from
from diffcli.processes.sources import Source, get_source, paired_noise

T_EPS = 1e-3  # training times are U[T_EPS, 1 − T_EPS]; the ODE stops at T_EPS
OFFSET = 0.05  # x̂0 = x_t + (t + OFFSET)·net; loss weight 1/(t + OFFSET)²


@PROCESSES.register("bridge")
@dataclass(frozen=True)
class Bridge:
    """Brownian bridge between data and a source, x0-prediction, exact posterior steps."""

    source: str = "gaussian"  # the prior at t = 1: a registered source or data set (processes/sources.py)
    bridge_sigma: float = 0.387  # s_b, the noise scale of the bridge
    coupling: str = "independent"  # how a batch pairs data with source points (diffcli/couplings/)
    coupling_block: int = 32  # points per minibatch OT problem (0: the whole batch)
    coupling_epsilon: float = 0.01  # sinkhorn's entropic regularisation, a fraction of the mean cost

    name: ClassVar[str] = "bridge"
    t0: ClassVar[float] = T_EPS
    t1: ClassVar[float] = 1.0
    prediction: ClassVar[str] = "x0"
    output_scaling: ClassVar[str] = f"x0_hat = x_t + (t + {OFFSET})·net(t, x_t)"
    n_timesteps: ClassVar[None] = None

    def __post_init__(self):
        get_source(self.source)
        check_coupling(self.coupling, self.coupling_block, self.coupling_epsilon)
        if not (self.bridge_sigma >= 0 and math.isfinite(self.bridge_sigma)):
            raise DiffcliError(f"model.bridge_sigma must be a finite number >= 0, got {self.bridge_sigma:g}")

    @property
    def src(self) -> Source:
        return get_source(self.source)

    @property
    def capabilities(self) -> frozenset[str]:
        # The Gaussian path (hence the ODE, scores, likelihoods) needs x1 independent of x0; a
        # coupled bridge keeps only its exact posterior steps (the Brownian bridge is Markov).
        gaussian = self.src.standard_normal and self.coupling == "independent"
        return frozenset({"bridge"} | ({"ode", "path", "score", "density"} if gaussian else set()))

    def _need_gaussian(self, what: str) -> None:
        if not self.src.standard_normal:
            raise DiffcliError(
                f"bridge with source {self.source!r} has no {what} (its noise is not Gaussian); "
                "use source 'gaussian', or the bridge's exact posterior steps (solver 'bridge')"
            )
        if self.coupling != "independent":
            raise DiffcliError(
                f"bridge with coupling {self.coupling!r} has no {what} (its x1 depends on x0, so x_t is no "
                "Gaussian path); use the bridge's exact posterior steps (solver 'bridge')"
            )

    def prior_sample(self, key, shape):
        return self.src.sample(key, shape)

    def prior_log_prob(self, x):
        return self.src.log_prob(x)

    def forward_sample(self, key, t, x_data, x1=None):
        """x_t given x_data and (given, else drawn from the source) its source point x1."""
        k1, kz = jax.random.split(key)
        x1 = self.src.sample(k1, x_data.shape) if x1 is None else x1
        z = jax.random.normal(kz, x_data.shape, x_data.dtype)
        tc = bcast(t, x_data)
        return (1.0 - tc) * x_data + tc * x1 + self.bridge_sigma * jnp.sqrt(tc * (1.0 - tc)) * z

    def loss(self, apply: Apply, key, x_data, x_noise=None, t=None):
        """x̂0's weighted regression on x_data bridged to x_noise (given: stored pairs; else drawn
        and coupled), at times t (else U[T_EPS, 1 − T_EPS])."""
        kt, kx = jax.random.split(key)
        if t is None:
            t = jax.random.uniform(kt, (x_data.shape[0],), minval=T_EPS, maxval=1.0 - T_EPS)
        x1 = None
        if x_noise is not None or self.coupling != "independent":  # independent: forward_sample draws x1
            kx, k1 = jax.random.split(kx)
            x1 = paired_noise(self, k1, x_data, x_noise)
        x_t = self.forward_sample(kx, t, x_data, x1)
        x0_hat = self.predict(apply)(t, x_t)
        return jnp.mean((x0_hat - x_data) ** 2 / (bcast(t, x_data) + OFFSET) ** 2)

    def predict(self, apply: Apply) -> Apply:
        return lambda t, x: x + (bcast(t, x) + OFFSET) * apply(t, x)

    def net_from_prediction(self, t, x, pred):
        return (pred - x) / (bcast(t, x) + OFFSET)

    def posterior(self, t, s, x_t, x0):
        """(mean (n, *shape), std scalar) of x_s given x_t and x0, for scalar times s < t."""
        mean = (t - s) / t * x0 + s / t * x_t
        std = self.bridge_sigma * jnp.sqrt(jnp.maximum(s * (t - s) / t, 0.0))
        return mean, std

    def coeffs(self, t) -> Coeffs:
        self._need_gaussian("Gaussian-path coefficients")
        sb2 = self.bridge_sigma**2
        return coeffs_from(lambda u: 1.0 - u, lambda u: jnp.sqrt(u**2 + sb2 * u * (1.0 - u)), t)

    def ode_drift(self, apply: Apply) -> Field:
        self._need_gaussian("probability-flow ODE")
        return field(self, apply, "velocity")
