"""DDPM ancestral sampling (Ho et al. 2020) on the chain's own timesteps: DDIM's step with η = 1
(samplers/ddim.py), i.e. x_{i−1} ~ q(x_{i−1} | x_i, x0 = x̂0) with variance β̃_i. Its default is
every timestep of the chain (T steps), which is exactly Ho et al.'s sampler. NFE = steps."""

from __future__ import annotations

from diffcli.sampling.registry import SAMPLERS, Options
from diffcli.sampling.samplers.ddim import DDIM


class Ancestral(DDIM):
    needs = frozenset({"timesteps", "path"})
    Options = Options  # none: η is 1
    summary = "DDPM ancestral sampling (Ho et al. 2020) on the chain's timesteps"
    default_steps = 1000
    order = None

    def eta(self, options) -> float:
        return 1.0

    def steps_for(self, process) -> int | None:
        return process.n_timesteps or self.default_steps  # every timestep of the chain


SAMPLERS.register("ancestral")(Ancestral())
