"""Euler: first order, one evaluation per step, no error estimate (fixed steps only)."""

import diffrax

from diffcli.sampling.solvers.base import ODE_SOLVERS, OdeSolver

ODE_SOLVERS.register("euler")(OdeSolver("euler", diffrax.Euler, order=1, evals_per_step=1))
