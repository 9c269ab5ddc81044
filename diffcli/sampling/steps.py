"""Samplers written as one pure step, scanned over the time grid (DDIM, ancestral, bridge, PC,
multistep solvers such as DPM-Solver++(2M)).

A StepSampler gives `init(ctx, x1) -> state` and `step(ctx, i, x, state) -> (x, state)`, the move
from times[i] to times[i + 1]; `state` is any pytree (a multistep method keeps its history in
it, () when there is none). The driver (sampling/driver.py) compiles the scan once; the first
`trajectories` samples' states are kept at every grid point. NFE = evals(options)·steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from diffcli.processes.base import batch_t
from diffcli.sampling.driver import Context, Solve
from diffcli.sampling.registry import Sampler


class StepSampler(Sampler):
    evals_per_step: int = 1  # network evaluations a step

    def init(self, ctx: Context, x1: jax.Array) -> Any:
        """The state carried beside x, before the first step."""
        return ()

    def step(self, ctx: Context, i: jax.Array, x: jax.Array, state: Any) -> tuple[jax.Array, Any]:
        """x at times[i] -> x at times[i + 1] (and the new state)."""
        raise NotImplementedError

    def evals(self, options) -> int:
        return self.evals_per_step

    def nfe(self, plan, steps: int) -> int:
        return self.evals(plan.options) * steps

    def solve(self, ctx: Context) -> Solve:
        k = ctx.trajectories
        steps = ctx.times.shape[0] - 1

        def body(carry, i):
            x, state = self.step(ctx, i, *carry)
            return (x, state), x[:k]

        (x, _), path = jax.lax.scan(body, (ctx.x1, self.init(ctx, ctx.x1)), jnp.arange(steps))
        traj = jnp.swapaxes(jnp.concatenate([ctx.x1[None, :k], path]), 0, 1) if k else None
        return Solve(x, traj, steps, steps, 0, True, False)


def network_at(ctx: Context, t: jax.Array, x: jax.Array) -> jax.Array:
    """The process's prediction (its own parameterisation, output scaling applied) at scalar t."""
    return ctx.process.predict(ctx.net)(batch_t(t, x), x)


def step_key(ctx: Context, i: jax.Array, j: int = 0) -> jax.Array:
    """The sampler's key for step i (and sub-step j)."""
    return jax.random.fold_in(jax.random.fold_in(ctx.key, i), j)


def noise(ctx: Context, i: jax.Array, x: jax.Array, j: int = 0) -> jax.Array:
    """Fresh N(0, I) noise shaped like x for step i (and sub-step j), from the sampler's key."""
    return jax.random.normal(step_key(ctx, i, j), x.shape, x.dtype)
