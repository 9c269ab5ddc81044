"""DDPM (Ho et al. 2020): a discrete chain of T steps with a linear β schedule, ε-prediction.

    q(x_i | x_{i−1}) = N(√(1 − β_i)·x_{i−1}, β_i I),   i = 1 … T,   ᾱ_i = Π_{j≤i} (1 − β_j),
    x_i = √ᾱ_i·x0 + √(1 − ᾱ_i)·ε,   β_i linear from β_min/T to β_max/T (1e-4 → 0.02 at T = 1000).

Step i sits at t = i/T (the network sees t, not i), so β_i = β_vp(t_i)/T with the VP-SDE's
β_vp from 0.1 to 20: the VP-SDE is this chain's continuous-time limit. Between the steps,
log ᾱ is linear in t, which makes DDPM the VP-SDE with piecewise-constant
β(t) = −T·log(1 − β_i) on ((i−1)/T, i/T] — exact at every t_i, so the same ODE and SDE solvers
apply on [1/T, 1], beside its own ancestral and DDIM samplers. At a knot t_i the derivative of
log ᾱ (hence the SDE's f and g, processes/diffusion.py) is that of the interval below it, the
one a sampler crosses going from t_i towards the data. Training draws i uniformly in 1 … T.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES
from diffcli.processes.diffusion import Diffusion
from diffcli.processes.vpsde import SIGMA2_FLOOR


@PROCESSES.register("ddpm")
@dataclass(frozen=True)
class DDPM(Diffusion):
    """DDPM's discrete chain (Ho et al. 2020), linear β, on the times i/T."""

    timesteps: int = 1000  # the chain's length T
    beta_min: float = 0.1  # T·β_1
    beta_max: float = 20.0  # T·β_T

    name: ClassVar[str] = "ddpm"
    t1: ClassVar[float] = 1.0
    capabilities: ClassVar[frozenset[str]] = Diffusion.capabilities | {"timesteps"}

    def __post_init__(self):
        super().__post_init__()
        if self.timesteps < 2:
            raise DiffcliError(f"ddpm needs model.timesteps >= 2, got {self.timesteps}")
        if not 0 < self.beta_min < self.beta_max < self.timesteps:
            raise DiffcliError(f"ddpm needs 0 < model.beta_min < model.beta_max < model.timesteps, "
                               f"got {self.beta_min:g} and {self.beta_max:g}")

    @property
    def t0(self) -> float:
        return 1.0 / self.timesteps

    @property
    def n_timesteps(self) -> int:
        return self.timesteps

    @cached_property
    def betas(self) -> np.ndarray:
        """β_1 … β_T, float64."""
        T = self.timesteps
        return (self.beta_min + (self.beta_max - self.beta_min) * np.arange(T) / max(T - 1, 1)) / T

    @cached_property
    def _log_alpha_bar(self) -> np.ndarray:
        """log ᾱ_i for i = 0 … T, with ᾱ_0 = 1 (float64)."""
        return np.concatenate([[0.0], np.cumsum(np.log1p(-self.betas))])

    def log_alpha_bar(self, t: jax.Array) -> jax.Array:
        """log ᾱ(t), linear on each interval ((i−1)/T, i/T] with slope T·log(1 − β_i) (so β(t) is
        exact, not a difference of rounded knots) and equal to log ᾱ_i at t = i/T."""
        T = self.timesteps
        knots = jnp.asarray(self._log_alpha_bar, jnp.float32)
        slopes = jnp.asarray(np.log1p(-self.betas), jnp.float32)  # log ᾱ_i − log ᾱ_{i−1}
        i = jnp.clip(jnp.ceil(t * T - 1e-4).astype(jnp.int32), 1, T)
        return knots[i - 1] + (t * T - (i - 1)) * slopes[i - 1]

    def alpha(self, t):
        return jnp.exp(0.5 * self.log_alpha_bar(t))

    def sigma(self, t):
        return jnp.sqrt(jnp.maximum(-jnp.expm1(self.log_alpha_bar(t)), SIGMA2_FLOOR))

    def sample_t(self, key, n):
        return jax.random.randint(key, (n,), 1, self.timesteps + 1).astype(jnp.float32) / self.timesteps
