"""Dormand–Prince 5(4) (1980): seven stages, first-same-as-last, six new evaluations a step."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("dopri5")(OdeSolver(diffrax.Dopri5, "Dormand–Prince 5(4) Runge–Kutta on the probability-flow ODE"))
