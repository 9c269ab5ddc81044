"""Predictor–corrector sampling (Song et al. 2021, Algorithm 1 with the Langevin corrector).

At each time t_i of the grid, from t1 down to t0:
  corrector (corrector_steps times): Langevin MCMC at fixed t on p_t,
      x ← x + ε·s(x, t) + sqrt(2ε)·z,   ε = 2·(snr·‖z‖ / ‖s(x, t)‖)²,
    with ‖·‖ the batch mean of per-sample norms (as Song et al.'s code does, so ε is one
    number per step, not a function of each sample's position);
  predictor: one Euler–Maruyama step of the reverse-time SDE from t_i to t_{i+1}, through
    diffrax with the same terms as sampling/sde.py.
The corrector's signal-to-noise ratio `snr` sets its step; Song et al.'s VP variant
multiplies ε by α_i = 1 − β_i·Δt, a rescaling of snr that is left out here.
NFE = steps·(1 + corrector_steps): every Langevin step calls the network once.
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp

from diffcli.processes.base import field
from diffcli.sampling.fixed import fixed_step_sampler, scan_steps
from diffcli.sampling.registry import SAMPLERS, Sampler
from diffcli.sampling.sde import brownian, reverse_sde_terms, sde_grid


def langevin_step(score_fn, x, t, key, snr):
    """One Langevin corrector step at fixed t; score_fn(t, x) -> (n, dim)."""
    s = score_fn(t, x)
    z = jax.random.normal(key, x.shape, x.dtype)
    s_norm = jnp.mean(jnp.linalg.norm(s, axis=-1))
    z_norm = jnp.mean(jnp.linalg.norm(z, axis=-1))
    eps = 2.0 * (snr * z_norm / s_norm) ** 2
    return x + eps * s + jnp.sqrt(2.0 * eps) * z


def make_pc_sampler(process, apply_fn, plan, n, dim, trajectories=0):
    k_corr = plan.corrector_steps

    def run(params, key, times):
        k_prior, k_bm, k_lang = jax.random.split(key, 3)
        terms = reverse_sde_terms(process, apply_fn, brownian(k_bm, n, dim))
        score = field(process, apply_fn(params), "score")

        def step(x, i):
            t, s = times[i], times[i + 1]
            for j in range(k_corr):
                x = langevin_step(score, x, t, jax.random.fold_in(k_lang, i * k_corr + j), plan.snr)
            x = diffrax.diffeqsolve(
                terms, diffrax.Euler(), t0=t, t1=s, dt0=None, y0=x, args=params,
                stepsize_controller=diffrax.StepTo(ts=jnp.stack([t, s])), max_steps=1, adjoint=diffrax.ForwardMode(),
            ).ys[-1]
            return x

        return scan_steps(step, process.prior_sample(k_prior, (n, dim)), plan.steps, trajectories)

    return fixed_step_sampler(plan, run, sde_grid(process, plan), plan.steps * (1 + k_corr), trajectories)


SAMPLERS.register("pc")(Sampler(
    "pc", "sde", make_pc_sampler, "predictor–corrector: reverse-SDE Euler–Maruyama + Langevin corrector",
    default_steps=200, options=("snr", "corrector_steps"),
))
