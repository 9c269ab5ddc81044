"""The variance-preserving SDE (Song et al. 2021), DDPM's continuous-time limit.

    dx = −½ β(t) x dt + √β(t) dW,     β(t) = β_min + t·(β_max − β_min)   (0.1 → 20)
    x_t = α(t)·x0 + σ(t)·ε,          α(t) = exp(−½ ∫₀ᵗ β),  σ(t) = sqrt(max(1 − α², 1e-8))

Only α and σ are written here; the SDE above follows from them (processes/diffusion.py).
Prior N(0, I) at t = 1 (α(1) ≈ 0.0066); the network predicts ε, trained on t ~ U[1e-3, 1],
and 1e-3 is also where generation stops (σ there is ≈ 0.01, the ODE is singular at t = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES
from diffcli.processes.diffusion import Diffusion

SIGMA2_FLOOR = 1e-8


@PROCESSES.register("vpsde")
@dataclass(frozen=True)
class VPSDE(Diffusion):
    """Variance-preserving SDE with a linear β(t) (Song et al. 2021)."""

    beta_min: float = 0.1  # β(0)
    beta_max: float = 20.0  # β(1)

    name: ClassVar[str] = "vpsde"
    t0: ClassVar[float] = 1e-3
    t1: ClassVar[float] = 1.0

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.beta_min < self.beta_max < float("inf"):
            raise DiffcliError(f"{self.name} needs 0 < model.beta_min < model.beta_max < inf, "
                               f"got {self.beta_min:g} and {self.beta_max:g}")

    def integral_beta(self, t: jax.Array) -> jax.Array:
        """∫₀ᵗ β(u) du."""
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2

    def alpha(self, t):
        return jnp.exp(-0.5 * self.integral_beta(t))

    def sigma(self, t):
        # 1 − α² as −expm1(−∫β): exact in float32 even where α² is within 1e-4 of 1.
        return jnp.sqrt(jnp.maximum(-jnp.expm1(-self.integral_beta(t)), SIGMA2_FLOOR))
