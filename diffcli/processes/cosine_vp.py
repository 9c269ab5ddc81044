"""A VP diffusion with Nichol & Dhariwal (2021)'s cosine schedule.

    ᾱ(t) = f(t)/f(0),   f(t) = cos²(π/2 · (t + s)/(1 + s)),   s = 0.008,
    x_t = √ᾱ(t)·x0 + √(1 − ᾱ(t))·ε,

with 1 − ᾱ computed as sin(π/2·t/(1+s))·sin(π/2·(t + 2s)/(1+s))/cos²(π/2·s/(1+s)) (the identity
cos²a₀ − cos²a = sin(a − a₀)·sin(a + a₀)), exact near t = 0. Only α and σ are written here;
the SDE follows from them (processes/diffusion.py): β(t) = −d log ᾱ/dt = π/(1+s)·tan(π/2·(t+s)/(1+s)).

β(t) diverges at t = 1 (ᾱ(1) = 0), so the generation interval stops at t1 = 0.99, where
β = 200, α = 0.016 and the marginal is within 1e-4 nats per dimension of the prior N(0, I) for
data of the cat's scale; it starts at t0 = 1e-3 (σ ≈ 0.0065), as the VP-SDE does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES
from diffcli.processes.diffusion import Diffusion


@PROCESSES.register("cosine-vp")
@dataclass(frozen=True)
class CosineVP(Diffusion):
    """VP diffusion with the cosine schedule of Nichol & Dhariwal (2021)."""

    offset: float = 0.008  # s: keeps β(t) finite near t = 0

    name: ClassVar[str] = "cosine-vp"
    t0: ClassVar[float] = 1e-3
    t1: ClassVar[float] = 0.99

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.offset < 1:
            raise DiffcliError(f"cosine-vp needs 0 < model.offset < 1, got {self.offset:g}")

    def _angle(self, t):
        return 0.5 * math.pi * (t + self.offset) / (1 + self.offset)

    def alpha(self, t):
        return jnp.cos(self._angle(t)) / math.cos(self._angle(0.0))

    def sigma(self, t):
        a0 = self._angle(0.0)  # angle(t) − a0 = π/2·t/(1+s), written so, exact near t = 0
        one_minus_abar = jnp.sin(0.5 * math.pi * t / (1 + self.offset)) * jnp.sin(self._angle(t) + a0) / math.cos(a0) ** 2
        return jnp.sqrt(jnp.maximum(one_minus_abar, 1e-8))
