"""Euler–Maruyama on the reverse-time SDE (diffrax.Euler): one network call a step, strong order
½ (1 for this additive noise); the sampler of the reference VP-SDE."""

import diffrax

from diffcli.sampling.registry import SAMPLERS
from diffcli.sampling.sde import SdeSolver

SAMPLERS.register("euler-maruyama")(SdeSolver(diffrax.Euler, "Euler–Maruyama on the reverse-time SDE"))
