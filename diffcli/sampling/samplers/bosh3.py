"""Bogacki–Shampine 3(2) (1989): four stages, first-same-as-last, so three new evaluations a step."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("bosh3")(OdeSolver(diffrax.Bosh3, "Bogacki–Shampine 3(2) Runge–Kutta on the probability-flow ODE"))
