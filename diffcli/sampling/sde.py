"""The reverse-time SDE (Anderson 1982; Song et al. 2021) through diffrax, from t1 down to t0.

    dx = [f(x, t) − g(t)² ∇log p_t(x)] dt + g(t) dW̄

is MultiTerm(ODETerm(drift), ControlTerm(diffusion, Brownian motion)); diffrax integrates it
backwards in time (dt < 0, increments of variance |dt|). Each of the n sample paths has its
own Brownian motion, drawn from the seed's key (UnsafeBrownianPath: exact increments on the
fixed time grid).

  euler-maruyama  diffrax.Euler: one network call a step, strong order ½ (1 for this
                  additive noise); the sampler of the reference VP-SDE.
  euler-heun      diffrax.EulerHeun: one network call a step. Its Stratonovich correction
                  averages g at two states; g here depends on t alone, so the correction
                  vanishes and it takes the same steps as Euler–Maruyama.
NFE = steps (the diffusion g(t) needs no network).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import lineax as lx

from diffcli.processes.base import field
from diffcli.sampling.fixed import fixed_step_sampler
from diffcli.sampling.grid import GRIDS
from diffcli.sampling.registry import SAMPLERS, Sampler


def brownian(key: jax.Array, n: int, dim: int) -> diffrax.UnsafeBrownianPath:
    """n independent dim-dimensional Brownian motions (fixed-step solves only)."""
    return diffrax.UnsafeBrownianPath(shape=(n, dim), key=key)


def reverse_sde_terms(process, apply_fn, bm) -> diffrax.MultiTerm:
    """Drift f − g²·score and diffusion g of the reverse SDE; args = network params."""

    def drift(t, y, params):
        return process.drift(y, t) - process.diffusion(t) ** 2 * field(process, apply_fn(params), "score")(t, y)

    def diffusion(t, y, params):
        return lx.DiagonalLinearOperator(jnp.full_like(y, process.diffusion(t)))

    return diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, bm))


def sde_grid(process, plan):
    return GRIDS.get(plan.grid)(plan.steps, float(process.t1), float(process.t0), power=plan.grid_power)


def _make(solver_cls):
    def make(process, apply_fn, plan, n, dim, trajectories=0):
        def run(params, key, times):
            k_prior, k_bm = jax.random.split(key)
            y1 = process.prior_sample(k_prior, (n, dim))
            saveat = diffrax.SaveAt(ts=times) if trajectories else diffrax.SaveAt(t1=True)
            sol = diffrax.diffeqsolve(
                reverse_sde_terms(process, apply_fn, brownian(k_bm, n, dim)), solver_cls(),
                t0=times[0], t1=times[-1], dt0=None, y0=y1, args=params,
                stepsize_controller=diffrax.StepTo(ts=times), saveat=saveat, max_steps=plan.steps,
                adjoint=diffrax.ForwardMode(),  # no gradients here; UnsafeBrownianPath needs this
            )
            traj = jnp.swapaxes(sol.ys[:, :trajectories], 0, 1) if trajectories else None
            return sol.ys[-1], traj

        return fixed_step_sampler(plan, run, sde_grid(process, plan), plan.steps, trajectories)

    return make


SAMPLERS.register("euler-maruyama")(Sampler(
    "euler-maruyama", "sde", _make(diffrax.Euler), "Euler–Maruyama on the reverse-time SDE", default_steps=200,
))
SAMPLERS.register("euler-heun")(Sampler(
    "euler-heun", "sde", _make(diffrax.EulerHeun), "Euler–Heun (Stratonovich) on the reverse-time SDE", default_steps=200,
))
