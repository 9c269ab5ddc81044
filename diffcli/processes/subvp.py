"""The sub-VP SDE (Song et al. 2021, eq. 11): the VP-SDE's β(t) with a smaller diffusion.

    dx = −½ β(t) x dt + sqrt(β(t)·(1 − e^{−2∫₀ᵗβ})) dW,
    x_t = α(t)·x0 + σ(t)·ε,   α(t) = exp(−½ ∫₀ᵗ β),   σ(t) = 1 − α(t)²,

so its variance σ² = (1 − α²)² stays below the VP-SDE's 1 − α² at every t (hence "sub").
Only σ differs from processes/vpsde.py; the SDE above follows from (α, σ) in
processes/diffusion.py: g² = 2σσ' − 2(α'/α)σ² = β(1 − α⁴). Same interval [1e-3, 1] and prior
N(0, I) (σ(1) = 1 − 4·10⁻⁵ with the default β).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from diffcli.processes.base import PROCESSES
from diffcli.processes.vpsde import SIGMA2_FLOOR, VPSDE

SIGMA_FLOOR = SIGMA2_FLOOR**0.5  # the VP-SDE's floor, on σ instead of σ²


@PROCESSES.register("subvp")
@dataclass(frozen=True)
class SubVPSDE(VPSDE):
    """Sub-VP SDE (Song et al. 2021): the VP-SDE's drift with variance (1 − α²)²."""

    name: ClassVar[str] = "subvp"

    def sigma(self, t):
        return jnp.maximum(-jnp.expm1(-self.integral_beta(t)), SIGMA_FLOOR)
