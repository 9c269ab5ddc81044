"""The reverse-time SDE (Anderson 1982; Song et al. 2021) through diffrax, from t1 down to t0.

    dx = [f(t, x) − g(t)² ∇log p_t(x)] dt + g(t) dW̄

is MultiTerm(ODETerm(reverse drift, λ = 1), ControlTerm(g, Brownian motion)); diffrax integrates
it backwards in time (dt < 0, increments of variance |dt|) on the fixed time grid. Each of the n
sample paths has its own Brownian motion, drawn from the sampler's key (UnsafeBrownianPath:
exact increments on the fixed grid). NFE = steps (g needs no network).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import lineax as lx

from diffcli.sampling.driver import Context, Solve, diffrax_solve
from diffcli.sampling.registry import Sampler


def brownian(key: jax.Array, shape: tuple[int, ...]) -> diffrax.UnsafeBrownianPath:
    """Independent Brownian motions, one per number of a state of `shape` (fixed-step solves only)."""
    return diffrax.UnsafeBrownianPath(shape=shape, key=key)


def reverse_sde_terms(process, net, bm) -> diffrax.MultiTerm:
    """Drift f − g²·score and diffusion g of the reverse SDE for the network `net`."""
    drift = process.reverse_drift(net, 1.0)

    def diffusion(t, y, args):
        return lx.DiagonalLinearOperator(jnp.full_like(y, process.diffusion(t)))

    return diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, args: drift(t, y)), diffrax.ControlTerm(diffusion, bm))


class SdeSolver(Sampler):
    """A diffrax SDE solver on the reverse-time SDE."""

    needs = frozenset({"sde"})
    default_steps = 200

    def __init__(self, solver: type[diffrax.AbstractSolver], summary: str):
        self.solver = solver
        self.summary = summary

    def nfe(self, plan, steps: int) -> int:
        return steps

    def solve(self, c: Context) -> Solve:
        sol = diffrax.diffeqsolve(
            reverse_sde_terms(c.process, c.net, brownian(c.key, c.x1.shape)), self.solver(),
            t0=c.times[0], t1=c.times[-1], dt0=None, y0=c.x1, stepsize_controller=diffrax.StepTo(ts=c.times),
            saveat=diffrax.SaveAt(ts=c.times) if c.trajectories else diffrax.SaveAt(t1=True),
            max_steps=c.plan.steps, adjoint=diffrax.ForwardMode(),  # no gradients; UnsafeBrownianPath needs this
            throw=False,
        )
        return diffrax_solve(sol, c.trajectories)
