"""Predictor–corrector sampling (Song et al. 2021, Algorithm 1 with the Langevin corrector).

At each time t_i of the grid, from t1 down to t0:
  corrector (corrector_steps times): Langevin MCMC at fixed t on p_t,
      x ← x + ε·s(t, x) + sqrt(2ε)·z,   ε = 2·(snr·‖z‖ / ‖s(t, x)‖)²,
    with ‖·‖ the batch mean of per-sample norms (as Song et al.'s code does, so ε is one
    number per step, not a function of each sample's position);
  predictor: one Euler–Maruyama step of the reverse-time SDE from t_i to t_{i+1},
      x ← x + (t_{i+1} − t_i)·(f − g²·score)(t_i, x) + g(t_i)·sqrt(|t_{i+1} − t_i|)·z,
    the last one without its noise when --denoise (the default; Song et al.'s denoise).
The corrector's signal-to-noise ratio `snr` sets its step; Song et al.'s VP variant
multiplies ε by α_i = 1 − β_i·Δt, a rescaling of snr that is left out here.
NFE = steps·(1 + corrector_steps): every Langevin step calls the network once.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import field
from diffcli.sampling.registry import SAMPLERS, Options, finite, option
from diffcli.sampling.sde import DENOISE, mean_step
from diffcli.sampling.steps import StepSampler, noise

SNR = 0.1  # measured: as good as Song et al.'s 0.16 on the cat, without its variance inflation (README, "Sampler defaults")


@dataclass(frozen=True)
class PCOptions(Options):
    snr: float = option(SNR, "signal-to-noise ratio of the Langevin corrector", label="snr {:g}")
    corrector_steps: int = option(1, "Langevin steps per time step", label="corrector {:d}")
    denoise: bool = option(DENOISE, "the last predictor step without its noise (Song et al. 2021's denoise)")

    def __post_init__(self):
        finite(snr=self.snr)
        if not self.snr > 0:
            raise DiffcliError(f"--snr must be > 0, got {self.snr:g}")
        if self.corrector_steps < 1:
            raise DiffcliError(f"--corrector-steps must be a positive integer, got {self.corrector_steps}")


def per_sample_norm(v):
    """Euclidean norm of each sample: (n, *shape) -> (n,)."""
    return jnp.sqrt(jnp.sum(v**2, axis=tuple(range(1, v.ndim))))


def langevin_step(score_fn, t, x, z, snr):
    """One Langevin corrector step at fixed t with noise z; score_fn(t, x) -> (n, *shape)."""
    s = score_fn(t, x)
    eps = 2.0 * (snr * jnp.mean(per_sample_norm(z)) / jnp.mean(per_sample_norm(s))) ** 2
    return x + eps * s + jnp.sqrt(2.0 * eps) * z


class PredictorCorrector(StepSampler):
    needs = frozenset({"sde"})
    Options = PCOptions
    summary = "predictor–corrector: reverse-SDE Euler–Maruyama + Langevin corrector"
    default_steps = 200

    def evals(self, options) -> int:
        return 1 + options.corrector_steps

    def step(self, ctx, i, x, state):
        t, s = ctx.times[i], ctx.times[i + 1]
        score = field(ctx.process, ctx.net, "score")
        for j in range(ctx.options.corrector_steps):
            x = langevin_step(score, t, x, noise(ctx, i, x, j + 1), ctx.options.snr)
        x_mean = mean_step(ctx.process, ctx.net, t, s, x)  # the predictor: Euler–Maruyama, one network call
        kick = ctx.process.diffusion(t) * jnp.sqrt(jnp.abs(s - t)) * noise(ctx, i, x)
        if ctx.options.denoise:  # the last step without its noise
            kick = jnp.where(i == ctx.times.shape[0] - 2, 0.0, kick)
        return x_mean + kick, state


SAMPLERS.register("pc")(PredictorCorrector())
