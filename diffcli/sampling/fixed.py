"""Compile-once wrapper shared by the fixed-step samplers (reverse SDE, PC, DDIM, bridge).

run(params, key, times) -> (samples (n, dim), trajectories (k, T, dim) or None) is jitted and
compiled on the first call (AOT), so timings exclude compilation and every later seed reuses
the program. NFE is exact and known before running: each sampler states it.
"""

from __future__ import annotations

import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import SolverError
from diffcli.sampling.ode import SampleResult


def scan_steps(step: Callable, x1: jax.Array, steps: int, trajectories: int):
    """x ← step(x, i) for i = 0 … steps−1 from x1 (n, dim), in one lax.scan.

    Returns (final x (n, dim), the first `trajectories` paths (k, steps + 1, dim) or None)."""

    def body(x, i):
        x = step(x, i)
        return x, x[:trajectories]

    x0, path = jax.lax.scan(body, x1, jnp.arange(steps))
    traj = jnp.swapaxes(jnp.concatenate([x1[None, :trajectories], path]), 0, 1) if trajectories else None
    return x0, traj


def fixed_step_sampler(plan, run: Callable, times, nfe: int, trajectories: int) -> Callable[..., SampleResult]:
    compiled: list = []

    def sampler(params, seed: int, rtol: float | None = None, atol: float | None = None) -> SampleResult:
        """rtol and atol are accepted for a uniform call shape and ignored (fixed steps)."""
        args = (params, jax.random.key(seed), times)
        if not compiled:
            compiled.append(jax.jit(run).lower(*args).compile())
        t = time.perf_counter()
        ys, traj = jax.block_until_ready(compiled[0](*args))
        seconds = time.perf_counter() - t
        ys = np.asarray(ys)
        if not np.isfinite(ys).all():
            raise SolverError(f"{plan.label()} produced non-finite values; use more steps")
        return SampleResult(
            samples=ys, nfe=nfe, steps=plan.steps, accepted=plan.steps, rejected=0, seconds=seconds,
            trajectories=np.asarray(traj) if trajectories else None,
            traj_times=np.asarray(times) if trajectories else None,
        )

    return sampler

