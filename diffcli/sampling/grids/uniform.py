"""uniform: t_i = t1 − (t1 − t0)·i/n."""

import numpy as np

from diffcli.sampling.grids import GRIDS, finish


@GRIDS.register("uniform")
def uniform(process, plan, n: int, t1: float, t0: float) -> np.ndarray:
    """Equal steps in t."""
    return finish(np.linspace(t1, t0, n + 1), t1, t0)
