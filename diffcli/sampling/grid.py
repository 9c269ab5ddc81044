"""Time grids for fixed-step solvers, from t1 (prior) down to t0 (data).

uniform: t_i = t1 − (t1 − t0)·i/N.
power:   t_i = t0 + (t1 − t0)·(1 − i/N)^p  (p > 1 puts more steps near the data end, where
         learned velocity fields bend most; p = 1 is uniform).

Each grid takes (n_steps, t1, t0, power=...); the power's default is the [sample] config's
(config.SampleConfig.grid_power), the one place it is set.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from diffcli.registry import Registry

GRIDS: Registry[Callable[..., jnp.ndarray]] = Registry("time grid")


@GRIDS.register("uniform")
def uniform(n_steps: int, t1: float, t0: float, *, power: float) -> jnp.ndarray:
    """Equal steps (the grid power is not used)."""
    return jnp.linspace(t1, t0, n_steps + 1)


@GRIDS.register("power")
def power(n_steps: int, t1: float, t0: float, *, power: float) -> jnp.ndarray:
    """Steps shrinking towards the data as (1 − i/N)^power."""
    u = jnp.linspace(1.0, 0.0, n_steps + 1)
    return t0 + (t1 - t0) * u**power
