"""Sampling by integrating the probability-flow ODE with diffrax, from t1 (prior) to t0 (data).

One jitted program per (solver, fixed-steps-or-adaptive, n, dim, trajectories); the network
parameters, the seed's key, the time grid and the tolerances are arguments, so a bench reuses
one compiled program across seeds (and, for adaptive runs, across tolerances).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import diffrax
import optimistix as optx
import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import SolverError
from diffcli.sampling.grid import GRIDS
from diffcli.sampling.plan import SolverPlan
from diffcli.sampling.solvers import ODE_SOLVERS

N_TRAJ_TIMES = 101  # saved times along trajectories of adaptive solves


def _worst_sample_rms(err) -> jax.Array:
    """Error norm of a batch of independent ODEs (n, dim): the RMS over each sample's coordinates,
    then the worst sample, so every sample meets the tolerance, not just the batch on average."""
    return jnp.max(jnp.sqrt(jnp.mean(err**2, axis=-1)))


# "rms": diffrax's default, the RMS over every number in the batch (one big ODE).
NORMS = {"rms": optx.rms_norm, "max": _worst_sample_rms}


@dataclass(frozen=True)
class SampleResult:
    samples: np.ndarray  # (n, dim) at t0
    nfe: int  # network evaluations, exact (see solvers/base.py)
    steps: int  # attempted steps
    accepted: int
    rejected: int
    seconds: float  # wall time of the compiled call (compile excluded)
    trajectories: np.ndarray | None = None  # (k, T, dim), from t1 to t0
    traj_times: np.ndarray | None = None  # (T,)


def make_ode_sampler(
    process, apply_fn: Callable[[Any], Callable], plan: SolverPlan, n: int, dim: int, trajectories: int = 0
) -> Callable[[Any, int], SampleResult]:
    """sampler(params, seed[, rtol, atol]) -> SampleResult. apply_fn(params) -> net(x, t)."""
    spec = ODE_SOLVERS.get(plan.solver)
    t1, t0 = float(process.t1), float(process.t0)

    def drift(t, y, params):
        return process.ode_drift(apply_fn(params))(t, y)

    if plan.adaptive:
        times = jnp.linspace(t1, t0, N_TRAJ_TIMES)
    else:
        times = GRIDS.get(plan.grid)(plan.steps, t1, t0, power=plan.grid_power)
    max_steps = plan.max_steps if plan.adaptive else plan.steps

    @jax.jit
    def run(params, key, times, rtol, atol):
        y1 = process.prior_sample(key, (n, dim))
        if plan.adaptive:
            ctrl = diffrax.PIDController(rtol=rtol, atol=atol, pcoeff=plan.pcoeff, icoeff=plan.icoeff,
                                         dcoeff=plan.dcoeff, norm=NORMS[plan.norm])
        else:
            ctrl = diffrax.StepTo(ts=times)
        saveat = diffrax.SaveAt(ts=times) if trajectories else diffrax.SaveAt(t1=True)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(drift), spec.make(), t0=t1, t1=t0, dt0=-plan.dt0_frac * (t1 - t0) if plan.adaptive else None, y0=y1, args=params,
            stepsize_controller=ctrl, saveat=saveat, max_steps=max_steps, throw=False,
        )
        st = sol.stats
        return (sol.ys, st["num_steps"], st["num_accepted_steps"], st["num_rejected_steps"],
                sol.result == diffrax.RESULTS.successful, sol.result == diffrax.RESULTS.max_steps_reached)

    compiled: list = []  # compiled once, on the first call (AOT), so timings exclude compilation

    def sampler(params, seed: int, rtol: float | None = None, atol: float | None = None) -> SampleResult:
        """Tolerances default to the plan's; they are arguments of the compiled program."""
        rtol = plan.rtol if rtol is None else rtol
        atol = plan.atol if atol is None else atol
        args = (params, jax.random.key(seed), times, jnp.float32(rtol or 0.0), jnp.float32(atol or 0.0))
        if not compiled:
            compiled.append(run.lower(*args).compile())
        t = time.perf_counter()
        ys, steps, acc, rej, ok, max_hit = jax.block_until_ready(compiled[0](*args))
        seconds = time.perf_counter() - t
        ys = np.asarray(ys)
        label = replace(plan, rtol=rtol, atol=atol).label()
        if not bool(ok):
            why = "hit its step limit (max_steps=%d)" % plan.max_steps if bool(max_hit) else "failed"
            raise SolverError(f"{label} {why}; loosen the tolerances or raise max_steps")
        if not np.isfinite(ys).all():
            raise SolverError(f"{label} produced non-finite values; use more steps or tighter tolerances")
        steps, acc, rej = int(steps), int(acc), int(rej)
        traj = ys[:, :trajectories].transpose(1, 0, 2) if trajectories else None
        return SampleResult(
            samples=ys[-1], nfe=spec.nfe(steps), steps=steps, accepted=acc, rejected=rej,
            seconds=seconds, trajectories=traj, traj_times=np.asarray(times) if trajectories else None,
        )

    return sampler
