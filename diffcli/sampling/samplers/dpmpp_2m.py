"""DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2): a second-order multistep
exponential integrator of the probability-flow ODE in data (x0) prediction.

In λ = log(α/σ), the half log signal-to-noise ratio, the probability-flow ODE of any affine path
x_t = α·x0 + σ·ε has the exact solution x_s = (σ_s/σ_t)·x_t + σ_s·∫ e^λ x̂0(λ) dλ. One step
from t to s < t, with h = λ_s − λ_t and the previous step's h_prev and x̂0_prev:

    D   = (1 + 1/(2r))·x̂0 − 1/(2r)·x̂0_prev,    r = h_prev / h,
    x_s = (σ_s/σ_t)·x_t + (α_s − σ_s·α_t/σ_t)·D,

since α_s·(1 − e^{−h}) = α_s − σ_s·α_t/σ_t. The first step has no history and uses D = x̂0
(DDIM's first-order step), as does a step whose λ jump is unbounded: from α = 0 (rectified
flow's t = 1) or to σ = 0 (a last step onto clean data, where x_s = α_s·x̂0; k-diffusion's
sample_dpmpp_2m does the same). One network evaluation a step; the history is the carried
state (x̂0_prev, λ_prev). Needs only the path's (α, σ): rectified flow (α = 1 − t, σ = t), DDPM,
VP, VE and the Gaussian bridge alike.
"""

from __future__ import annotations

import jax.numpy as jnp

from diffcli.processes.base import field
from diffcli.processes.parameterisation import bcast
from diffcli.sampling.registry import SAMPLERS
from diffcli.sampling.steps import StepSampler


def half_log_snr(c) -> jnp.ndarray:
    """λ = log α − log σ (−inf where α = 0, +inf where σ = 0)."""
    return jnp.log(c.alpha) - jnp.log(c.sigma)


class DPMSolverPP2M(StepSampler):
    needs = frozenset({"path"})
    summary = "DPM-Solver++(2M), multistep exponential integrator in x0 (Lu et al. 2022)"
    order = 2

    def init(self, ctx, x1):
        return jnp.zeros_like(x1), jnp.asarray(-jnp.inf, x1.dtype)  # x̂0_prev, λ_prev: no history

    def step(self, ctx, i, x, state):
        x0_prev, lam_prev = state
        t, s = ctx.times[i], ctx.times[i + 1]
        ct, cs = ctx.process.coeffs(t), ctx.process.coeffs(s)
        x0 = field(ctx.process, ctx.net, "x0")(t, x)
        lam_t, lam_s = half_log_snr(ct), half_log_snr(cs)
        h, h_prev = lam_s - lam_t, lam_t - lam_prev
        usable = jnp.isfinite(h) & jnp.isfinite(h_prev) & (h_prev > 0)
        w = jnp.where(usable, h / (2 * jnp.where(usable, h_prev, 1.0)), 0.0)  # 1/(2r)
        d = x0 + bcast(w, x) * (x0 - x0_prev)
        x_s = (cs.sigma / ct.sigma) * x + (cs.alpha - cs.sigma * ct.alpha / ct.sigma) * d
        return x_s, (x0, lam_t)


SAMPLERS.register("dpm++2m")(DPMSolverPP2M())
