"""Tsitouras' 5(4) pair (2011): seven stages, first-same-as-last, so six new evaluations a step."""

import diffrax

from diffcli.sampling.solvers.base import ODE_SOLVERS, OdeSolver

ODE_SOLVERS.register("tsit5")(
    OdeSolver("tsit5", diffrax.Tsit5, order=5, evals_per_step=6, initial_evals=1, adaptive=True)
)
