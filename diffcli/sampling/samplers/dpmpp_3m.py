"""DPM-Solver++(3M) (Lu et al. 2022, "DPM-Solver++", the third-order multistep update of their
official code, `multistep_dpm_solver_third_update` with data prediction): a multistep
exponential integrator of the probability-flow ODE in x0 prediction, one network evaluation a step.

In λ = log(α/σ), with m0, m1, m2 the x̂0 of the current and the two previous grid points and
h = λ_s − λ_t, h0 = λ_t − λ_prev, h1 = λ_prev − λ_prev2, r0 = h0/h, r1 = h1/h:

    D1_0 = (m0 − m1)/r0,   D1_1 = (m1 − m2)/r1,
    D1 = D1_0 + r0/(r0 + r1)·(D1_0 − D1_1),   D2 = (D1_0 − D1_1)/(r0 + r1),
    φ1 = e^{−h} − 1,   φ2 = φ1/h + 1,   φ3 = φ2/h − 1/2,
    x_s = (σ_s/σ_t)·x_t − α_s·φ1·m0 + α_s·φ2·D1 − α_s·φ3·D2.

Without D2 (one point of history) this is DPM-Solver++(2M), without D1 too the first-order step
(DDIM): the first two steps start it up so, as in Lu et al.'s code, and so does any step whose
history has an unbounded λ jump (from α = 0, rectified flow's t = 1) or that lands on σ = 0
(a last step onto clean data: x_s = α_s·x̂0). The start-up steps are of lower order, so on a
uniform grid its global error is third order only once their share is small. The history is
the carried state (m1, m2, λ_prev, λ_prev2).
"""

from __future__ import annotations

import jax.numpy as jnp

from diffcli.processes.base import field
from diffcli.processes.parameterisation import bcast
from diffcli.sampling.registry import SAMPLERS
from diffcli.sampling.samplers.dpmpp_2m import half_log_snr
from diffcli.sampling.steps import StepSampler


class DPMSolverPP3M(StepSampler):
    needs = frozenset({"path"})
    summary = "DPM-Solver++(3M), third-order multistep exponential integrator in x0 (Lu et al. 2022)"
    order = 3

    def init(self, ctx, x1):
        none = jnp.asarray(-jnp.inf, x1.dtype)
        return jnp.zeros_like(x1), jnp.zeros_like(x1), none, none  # m1, m2, λ_prev, λ_prev2: no history

    def step(self, ctx, i, x, state):
        m1, m2, lam1, lam2 = state
        t, s = ctx.times[i], ctx.times[i + 1]
        ct, cs = ctx.process.coeffs(t), ctx.process.coeffs(s)
        m0 = field(ctx.process, ctx.net, "x0")(t, x)
        lam_t, lam_s = half_log_snr(ct), half_log_snr(cs)
        h, h0, h1 = lam_s - lam_t, lam_t - lam1, lam1 - lam2
        finite = jnp.isfinite(h)
        second = finite & jnp.isfinite(h0) & (h0 > 0)  # one usable point of history
        third = second & jnp.isfinite(h1) & (h1 > 0)  # two
        hh = jnp.where(finite, h, 1.0)
        r0 = jnp.where(second, h0, 1.0) / hh
        r1 = jnp.where(third, h1, 1.0) / hh
        d1_0 = (m0 - m1) / bcast(r0, x)
        d1_1 = (m1 - m2) / bcast(r1, x)
        w = jnp.where(third, r0 / (r0 + r1), 0.0)
        d1 = jnp.where(second, d1_0 + w * (d1_0 - d1_1), 0.0)
        d2 = jnp.where(third, (d1_0 - d1_1) / (r0 + r1), 0.0)
        phi1 = jnp.expm1(-hh)
        phi2 = phi1 / hh + 1.0
        phi3 = phi2 / hh - 0.5
        # the first-order part written without φ1, so an infinite h (α_t = 0 or σ_s = 0) stays exact
        x_s = (cs.sigma / ct.sigma) * x + (cs.alpha - cs.sigma * ct.alpha / ct.sigma) * m0
        x_s = x_s + jnp.where(finite, cs.alpha * (phi2 * d1 - phi3 * d2), 0.0)
        return x_s, (m0, m1, lam_t, lam1)


SAMPLERS.register("dpm++3m")(DPMSolverPP3M())
