"""fitted: the grid `diffcli grid fit` found for this run, solver and step count (grids.json in
the run; sampling/fit.py). The plan carries the fitted times (plan.grid_times): `sample` and
`bench` look them up when --grid fitted is asked for and say when none has been fitted."""

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.sampling.grids import GRIDS


@GRIDS.register("fitted")
def fitted(process, plan, n: int, t1: float, t0: float) -> np.ndarray:
    """The grid fitted for this run, solver and budget (`diffcli grid fit`)."""
    if plan.grid_times is None:
        raise DiffcliError(f"{plan.solver} {plan.steps} steps: no fitted grid in the plan; "
                           "fit one with `diffcli grid fit RUN` and sample with --grid fitted")
    return np.asarray(plan.grid_times, np.float64)
