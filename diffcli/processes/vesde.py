"""The variance-exploding SDE (Song et al. 2021), the continuous noise ladder of NCSN.

    dx = g(t) dW,   g(t) = sqrt(dσ²/dt) = σ(t)·sqrt(2 ln(σ_max/σ_min)),
    x_t = x0 + σ(t)·ε,   σ(t) = σ_min·(σ_max/σ_min)^t,   t ∈ [0, 1],

prior N(0, σ_max² I). Only α = 1 and σ are written here; the SDE follows from them
(processes/diffusion.py). The network predicts ε by default (score = −ε/σ); prediction =
"score" makes it output the score itself, trained with Song et al.'s weight λ(t) = σ(t)².

Defaults for data of the cat's scale (points within about [−2.4, 2.4]², diameter ≈ 5.05):
  σ_max = 10: twice the largest pairwise distance (Song & Ermon 2020 ask for at least that, so
    the prior covers every mode); the prior then differs from the true t = 1 marginal
    N(mean, cov + σ_max² I) by at most 2% in variance for the cat (covariance eigenvalues
    ≤ 2.0), which the probability-flow ODE carries into the samples, while a larger σ_max would
    spend training time on noise levels where nothing is left to learn.
  σ_min = 0.01: a fifth of the cat's own noise (0.05), so the last noise level widens the
    outline by sqrt(0.05² + 0.01²) − 0.05 ≈ 0.001.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES
from diffcli.processes.diffusion import Diffusion


@PROCESSES.register("vesde")
@dataclass(frozen=True)
class VESDE(Diffusion):
    """Variance-exploding SDE with a geometric noise ladder (Song et al. 2021)."""

    sigma_min: float = 0.01  # σ(0)
    sigma_max: float = 10.0  # σ(1), the prior's standard deviation

    name: ClassVar[str] = "vesde"
    t0: ClassVar[float] = 0.0
    t1: ClassVar[float] = 1.0

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.sigma_min < self.sigma_max < float("inf"):
            raise DiffcliError(f"vesde needs 0 < model.sigma_min < model.sigma_max < inf, "
                               f"got {self.sigma_min:g} and {self.sigma_max:g}")

    @property
    def log_ratio(self) -> float:
        return math.log(self.sigma_max / self.sigma_min)

    def alpha(self, t):
        return jnp.ones_like(t)

    def sigma(self, t):
        return self.sigma_min * jnp.exp(t * self.log_ratio)

    @property
    def prior_std(self) -> float:
        return self.sigma_max
