"""Predictor–corrector sampling (Song et al. 2021, Algorithm 1 with the Langevin corrector).

At each time t_i of the grid, from t1 down to t0:
  corrector (corrector_steps times): Langevin MCMC at fixed t on p_t,
      x ← x + ε·s(t, x) + sqrt(2ε)·z,   ε = 2·(snr·‖z‖ / ‖s(t, x)‖)²,
    with ‖·‖ the batch mean of per-sample norms (as Song et al.'s code does, so ε is one
    number per step, not a function of each sample's position);
  predictor: one Euler–Maruyama step of the reverse-time SDE from t_i to t_{i+1}, through
    diffrax with the same terms as sampling/sde.py.
The corrector's signal-to-noise ratio `snr` sets its step; Song et al.'s VP variant
multiplies ε by α_i = 1 − β_i·Δt, a rescaling of snr that is left out here.
NFE = steps·(1 + corrector_steps): every Langevin step calls the network once.
"""

from __future__ import annotations

from dataclasses import dataclass

import diffrax
import jax.numpy as jnp

from diffcli.errors import DiffcliError
from diffcli.processes.base import field
from diffcli.sampling.registry import SAMPLERS, Options, finite, option
from diffcli.sampling.sde import brownian, reverse_sde_terms
from diffcli.sampling.steps import StepSampler, noise, step_key


@dataclass(frozen=True)
class PCOptions(Options):
    snr: float = option(0.16, "signal-to-noise ratio of the Langevin corrector", label="snr {:g}")
    corrector_steps: int = option(1, "Langevin steps per time step", label="corrector {:d}")

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
        terms = reverse_sde_terms(ctx.process, ctx.net, brownian(step_key(ctx, i), x.shape))
        x = diffrax.diffeqsolve(
            terms, diffrax.Euler(), t0=t, t1=s, dt0=None, y0=x, stepsize_controller=diffrax.StepTo(ts=jnp.stack([t, s])),
            max_steps=1, adjoint=diffrax.ForwardMode(),
        ).ys[-1]
        return x, state


SAMPLERS.register("pc")(PredictorCorrector())
