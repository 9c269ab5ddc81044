"""power: t_i = t0 + (t1 − t0)·(1 − i/n)^p (p = --grid-power; p > 1 puts more steps near the
data end, where learned velocity fields bend most; p = 1 is uniform)."""

import numpy as np

from diffcli.sampling.grids import GRIDS, finish


@GRIDS.register("power")
def power(process, plan, n: int, t1: float, t0: float) -> np.ndarray:
    """Steps shrinking towards the data as (1 − i/n)^p, p = --grid-power."""
    u = np.linspace(1.0, 0.0, n + 1)
    return finish(t0 + (t1 - t0) * u**plan.grid_power, t1, t0)
