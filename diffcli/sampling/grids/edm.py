"""edm: Karras et al. (2022, "Elucidating the design space …", eq. 5) — the ρ-schedule

    s_i = (s_max^{1/ρ} + i/n·(s_min^{1/ρ} − s_max^{1/ρ}))^ρ,   ρ = --grid-rho (default 7),

in the process's own noise level s = σ/α (EDM's σ: the noise-to-signal ratio of x_t/α), mapped
back to t through the path. Where s is infinite at t1 (rectified flow: α(1) = 0) the schedule
runs in σ(t) alone, which for rectified flow is t itself (then it is the power grid with p = ρ).
"""

import numpy as np

from diffcli.sampling.grids import GRIDS, finish, from_level, path_of


def _ratio(a, s):
    return s / a


def _sigma(a, s):
    return s


@GRIDS.register("edm")
def edm(process, plan, n: int, t1: float, t0: float) -> np.ndarray:
    """Karras et al.'s ρ-schedule (ρ = --grid-rho) in the noise level σ/α (σ where α(t1) = 0)."""
    import jax.numpy as jnp

    p = path_of(process, "edm")
    c = p.coeffs(jnp.asarray([t1, t0], jnp.float32))
    a, s = np.asarray(c.alpha, np.float64), np.asarray(c.sigma, np.float64)
    level = _ratio if a[0] > 0 else _sigma
    hi, lo = level(a, s) if a[0] > 0 else s
    r = 1.0 / plan.grid_rho
    targets = (hi**r + np.linspace(0.0, 1.0, n + 1) * (lo**r - hi**r)) ** plan.grid_rho
    return finish(from_level(p, level, targets, t1, t0), t1, t0)
