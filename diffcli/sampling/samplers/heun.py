"""Heun (explicit trapezoid): second order, two evaluations a step, embedded Euler error estimate."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("heun")(OdeSolver(diffrax.Heun, "Heun's method (explicit trapezoid) on the probability-flow ODE"))
