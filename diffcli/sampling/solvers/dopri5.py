"""Dormand–Prince 5(4) (1980): seven stages, first-same-as-last, six new evaluations a step."""

import diffrax

from diffcli.sampling.solvers.base import ODE_SOLVERS, OdeSolver

ODE_SOLVERS.register("dopri5")(
    OdeSolver("dopri5", diffrax.Dopri5, order=5, evals_per_step=6, initial_evals=1, adaptive=True)
)
