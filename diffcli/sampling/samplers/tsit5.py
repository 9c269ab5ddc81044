"""Tsitouras' 5(4) pair (2011): seven stages, first-same-as-last, so six new evaluations a step."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("tsit5")(OdeSolver(diffrax.Tsit5, "Tsitouras 5(4) Runge–Kutta on the probability-flow ODE"))
