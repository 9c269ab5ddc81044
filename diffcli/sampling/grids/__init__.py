"""Time grids of fixed-step samplers by name: one file each in this folder, registered in one line.

A grid is a function grid(process, plan, n, t1, t0) -> the n + 1 times from t1 (prior) down to
t0 (data), strictly decreasing, as float64 NumPy. It may use the process (a noise level or a
log-SNR needs the path's α and σ) and the plan's grid settings (plan.grid_power,
plan.grid_rho, plan.grid_times for a fitted grid). Samplers call it through
Sampler.times (sampling/registry.py), which also adds the last step onto the data for
samplers that end there.

    uniform  equal steps in t
    power    t0 + (t1 − t0)·(1 − i/n)^p, denser near the data
    edm      Karras et al.'s ρ-schedule in the process's noise level σ/α
    logsnr   equal steps in the half log signal-to-noise ratio λ = log(α/σ)
    fitted   the grid `diffcli grid fit` found for this run, solver and budget (grids.json)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.registry import Registry

GRIDS: Registry[Callable[..., np.ndarray]] = Registry("time grid", package="diffcli.sampling.grids")

TABLE = 4097  # points of the table a level's inverse is read from


def from_level(process, level: Callable[[np.ndarray, np.ndarray], np.ndarray], targets: np.ndarray,
               t1: float, t0: float) -> np.ndarray:
    """The times in [t0, t1] where the monotone level(α, σ) takes the values `targets`, read off
    a fine table of t (linear interpolation, float64)."""
    import jax.numpy as jnp

    t = np.linspace(t0, t1, TABLE)
    c = process.coeffs(jnp.asarray(t, jnp.float32))
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = level(np.asarray(c.alpha, np.float64), np.asarray(c.sigma, np.float64))
    ok = np.isfinite(lv)
    lv, t = lv[ok], t[ok]
    if lv[0] > lv[-1]:  # np.interp wants increasing levels
        lv, t = lv[::-1], t[::-1]
    return np.interp(targets, lv, t)


def path_of(process, grid: str):
    """The process, which must have an affine path (α, σ) for this grid."""
    if "path" not in process.capabilities:
        raise DiffcliError(f"grid {grid!r} needs the model's path x_t = α·x0 + σ·ε, which model "
                           f"{process.name!r} does not have; use --grid uniform or power")
    return process


def finish(times, t1: float, t0: float) -> np.ndarray:
    """Exact end points (float64; jnp.asarray makes it JAX's default float)."""
    times = np.asarray(times, np.float64).copy()
    times[0], times[-1] = t1, t0
    return times
