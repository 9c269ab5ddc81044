"""The explicit midpoint rule: second order, two evaluations a step, embedded Euler error estimate."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("midpoint")(OdeSolver(diffrax.Midpoint, "the explicit midpoint rule on the probability-flow ODE"))
