"""Euler–Heun on the reverse-time SDE (diffrax.EulerHeun): one network call a step. Its
Stratonovich correction averages g at two states; g here depends on t alone, so the correction
vanishes and it takes the same steps as Euler–Maruyama."""

import diffrax

from diffcli.sampling.registry import SAMPLERS
from diffcli.sampling.sde import SdeSolver

SAMPLERS.register("euler-heun")(SdeSolver(diffrax.EulerHeun, "Euler–Heun (Stratonovich) on the reverse-time SDE"))
