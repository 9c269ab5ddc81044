"""logsnr: equal steps in the half log signal-to-noise ratio λ(t) = log(α/σ), the variable of
DPM-Solver's exponential integrators (Lu et al. 2022 use it as their default for few steps).

Where λ is infinite at an end (rectified flow: α(1) = 0 at t1, σ(0) = 0 at t0) the uniform
steps span λ over [t0 + δ, t1 − δ], δ = 10⁻³·(t1 − t0), and the end points stay t1 and t0.
"""

import numpy as np

from diffcli.sampling.grids import GRIDS, finish, from_level, path_of

EDGE = 1e-3  # how far inside an infinite end the λ range stops, as a fraction of the interval


def _lam(a, s):
    return np.log(a) - np.log(s)


@GRIDS.register("logsnr")
def logsnr(process, plan, n: int, t1: float, t0: float) -> np.ndarray:
    """Equal steps in λ = log(α/σ) (ends with infinite λ pulled in by 10⁻³ of the interval)."""
    import jax.numpy as jnp

    p = path_of(process, "logsnr")
    d = EDGE * (t1 - t0)
    ends = np.array([t1, t1 - d, t0 + d, t0])
    c = p.coeffs(jnp.asarray(ends, jnp.float32))
    with np.errstate(divide="ignore"):
        lam = _lam(np.asarray(c.alpha, np.float64), np.asarray(c.sigma, np.float64))
    hi = lam[0] if np.isfinite(lam[0]) else lam[1]
    lo = lam[3] if np.isfinite(lam[3]) else lam[2]
    return finish(from_level(p, _lam, np.linspace(hi, lo, n + 1), t1, t0), t1, t0)
