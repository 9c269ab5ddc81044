"""Heun (explicit trapezoid): second order, two evaluations per step, embedded Euler error."""

import diffrax

from diffcli.sampling.solvers.base import ODE_SOLVERS, OdeSolver

ODE_SOLVERS.register("heun")(OdeSolver("heun", diffrax.Heun, order=2, evals_per_step=2, adaptive=True))
