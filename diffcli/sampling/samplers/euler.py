"""Euler: first order, one evaluation a step, no error estimate (fixed steps only)."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("euler")(OdeSolver(diffrax.Euler, "Euler's method on the probability-flow ODE"))
