"""Ralston's method (1962): the two-stage second-order Runge–Kutta method of smallest error
bound, with an embedded Euler error estimate."""

import diffrax

from diffcli.sampling.ode import OdeSolver
from diffcli.sampling.registry import SAMPLERS

SAMPLERS.register("ralston")(OdeSolver(diffrax.Ralston, "Ralston's second-order Runge–Kutta on the probability-flow ODE"))
