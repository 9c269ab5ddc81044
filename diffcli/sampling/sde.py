"""The reverse-time SDE (Anderson 1982; Song et al. 2021) through diffrax, from t1 down to t0.

    dx = [f(t, x) − g(t)² ∇log p_t(x)] dt + g(t) dW̄

is MultiTerm(ODETerm(reverse drift, λ = 1), ControlTerm(g, Brownian motion)); diffrax integrates
it backwards in time (dt < 0, increments of variance |dt|) on the fixed time grid. Each of the n
sample paths has its own Brownian motion, drawn from the sampler's key (UnsafeBrownianPath:
exact increments on the fixed grid). With `--denoise` (the default) the last step is the drift's
alone, without its noise, as Song et al.'s samplers return it. NFE = steps (g needs no network).
"""

from __future__ import annotations

from dataclasses import dataclass

import diffrax
import jax
import jax.numpy as jnp
import lineax as lx

from diffcli.sampling.driver import Context, Solve, diffrax_solve
from diffcli.sampling.registry import Options, Sampler, option

DENOISE = True  # measured on the cat: CD 0.0508 → 0.0483 (vpsde), 0.0512 → 0.0488 (ddpm); README, "Sampler defaults"


def brownian(key: jax.Array, shape: tuple[int, ...]) -> diffrax.UnsafeBrownianPath:
    """Independent Brownian motions, one per number of a state of `shape` (fixed-step solves only)."""
    return diffrax.UnsafeBrownianPath(shape=shape, key=key)


def reverse_sde_terms(process, net, bm) -> diffrax.MultiTerm:
    """Drift f − g²·score and diffusion g of the reverse SDE for the network `net`."""
    drift = process.reverse_drift(net, 1.0)

    def diffusion(t, y, args):
        return lx.DiagonalLinearOperator(jnp.full_like(y, process.diffusion(t)))

    return diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, args: drift(t, y)), diffrax.ControlTerm(diffusion, bm))


@dataclass(frozen=True)
class SdeOptions(Options):
    denoise: bool = option(DENOISE, "the last step without its noise: its mean (Song et al. 2021's denoise)")


def mean_step(process, net, t, s, x):
    """The reverse SDE's step from t to s without its noise: x + (s − t)·(f − g²·score)(t, x)."""
    return x + (s - t) * process.reverse_drift(net, 1.0)(t, x)


class SdeSolver(Sampler):
    """A diffrax SDE solver on the reverse-time SDE."""

    needs = frozenset({"sde"})
    Options = SdeOptions
    default_steps = 200

    def __init__(self, solver: type[diffrax.AbstractSolver], summary: str):
        self.solver = solver
        self.summary = summary

    def nfe(self, plan, steps: int) -> int:
        return steps

    def solve(self, c: Context) -> Solve:
        denoise, k = c.options.denoise, c.trajectories
        if denoise and c.times.shape[0] == 2:  # a single step, and it is the last: its mean alone
            x = mean_step(c.process, c.net, c.times[0], c.times[1], c.x1)
            return Solve(x, jnp.stack([c.x1[:k], x[:k]], 1) if k else None, 1, 1, 0, True, False)
        noisy = c.times[:-1] if denoise else c.times  # with denoise the last step is taken apart
        sol = diffrax.diffeqsolve(
            reverse_sde_terms(c.process, c.net, brownian(c.key, c.x1.shape)), self.solver(),
            t0=noisy[0], t1=noisy[-1], dt0=None, y0=c.x1, stepsize_controller=diffrax.StepTo(ts=noisy),
            saveat=diffrax.SaveAt(ts=noisy) if c.trajectories else diffrax.SaveAt(t1=True),
            max_steps=c.plan.steps, adjoint=diffrax.ForwardMode(),  # no gradients; UnsafeBrownianPath needs this
            throw=False,
        )
        out = diffrax_solve(sol, c.trajectories)
        if not denoise:
            return out
        x = mean_step(c.process, c.net, c.times[-2], c.times[-1], out.x)
        path = jnp.concatenate([out.path, x[: c.trajectories, None]], 1) if c.trajectories else None
        return out._replace(x=x, path=path, steps=out.steps + 1, accepted=out.accepted + 1)
