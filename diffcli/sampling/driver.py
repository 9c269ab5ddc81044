"""The one driver every sampler runs through (and the likelihood's solve too).

make_sampler(process, apply_fn, plan, n, shape) -> sampler(params, seed[, rtol, atol]):
  1. the time grid: the sampler's own `times(process, plan)` (an argument of the program, so a
     bench reuses one program across seeds, and adaptive solves across tolerances);
  2. one program per (sampler, plan, n, shape, trajectories), jitted and compiled on the first
     call (AOT), so timings exclude compilation; inside it the prior draw x1 at t1 from the
     seed's key and the sampler's `solve`;
  3. timing of the compiled call alone;
  4. the checks: the solver's own result (a step limit or failure is a SolverError naming the
     solver and its tolerance, exit 3) and the samples' finiteness — never a NaN in a table;
  5. NFE from the sampler's own count (exact; tests count the network's calls).

Key use: the prior is drawn with the seed's key itself, the sampler's noise (SDE paths,
corrector, ancestral steps) with fold_in(key, NOISE_SALT), so a deterministic sampler's
samples are a function of the prior draw alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.devices import data_mesh, gathered, shard_rows
from diffcli.sampling.checks import check_solve
from diffcli.sampling.plan import SolverPlan
from diffcli.sampling.registry import SAMPLERS, check_fits
from diffcli.sampling.result import SampleResult

NOISE_SALT = 0x401E


class Solve(NamedTuple):
    """What a sampler's solve returns inside the program."""

    x: jax.Array  # (n, *shape) at the end
    path: jax.Array | None  # (k, T, *shape) the first k samples at the grid's times, or None
    steps: jax.Array | int  # attempted steps
    accepted: jax.Array | int
    rejected: jax.Array | int
    ok: jax.Array | bool  # the solver reports success
    limit: jax.Array | bool  # it stopped at its step limit


@dataclass(frozen=True)
class Context:
    """Everything a sampler's solve sees (inside the traced program)."""

    process: Any
    net: Callable[[jax.Array, jax.Array], jax.Array]  # the network, net(t (n,), x (n, *shape))
    x1: jax.Array  # the prior draw at t1, (n, *shape)
    key: jax.Array  # for the sampler's own noise
    times: jax.Array  # the grid, from t1 down to the end (adaptive: the times to save)
    rtol: jax.Array  # adaptive tolerances (0 for fixed steps)
    atol: jax.Array
    plan: SolverPlan
    trajectories: int  # how many of the samples' paths to keep

    @property
    def options(self):
        return self.plan.options


class Program:
    """A function jitted and compiled (AOT) on its first call; each call returns
    (outputs, seconds of the compiled call alone)."""

    def __init__(self, fn: Callable):
        self._jitted = jax.jit(fn)
        self._compiled = None

    def __call__(self, *args) -> tuple[Any, float]:
        if self._compiled is None:
            self._compiled = self._jitted.lower(*args).compile()
        t = time.perf_counter()
        out = jax.block_until_ready(self._compiled(*args))
        return out, time.perf_counter() - t


def diffrax_solve(sol, trajectories: int = 0) -> Solve:
    """A diffrax Solution as a Solve: the last saved state, the first k paths, the step counts
    and the result (successful / max_steps_reached)."""
    import diffrax

    st = sol.stats
    ys = jax.tree.map(lambda y: y[-1], sol.ys)
    path = jnp.swapaxes(sol.ys[:, :trajectories], 0, 1) if trajectories else None
    return Solve(ys, path, st["num_steps"], st["num_accepted_steps"], st["num_rejected_steps"],
                 sol.result == diffrax.RESULTS.successful, sol.result == diffrax.RESULTS.max_steps_reached)


def tsit5_path(drift, x1, times, tol: float, max_steps: int):
    """Traced: Tsit5 on dx/dt = drift(t, x) from x1 at times[0], adaptive at rtol = atol = tol,
    saved at `times`: (ys (T, n, *shape), succeeded, hit the step limit). The accurate solve
    behind grid fitting and the straightness measure."""
    import diffrax

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: drift(t, y)), diffrax.Tsit5(), t0=times[0], t1=times[-1],
        dt0=(times[-1] - times[0]) / 100, y0=x1, saveat=diffrax.SaveAt(ts=times),
        stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol), max_steps=max_steps, throw=False)
    return sol.ys, sol.result == diffrax.RESULTS.successful, sol.result == diffrax.RESULTS.max_steps_reached


def make_sampler(process, apply_fn: Callable[[Any], Callable], plan: SolverPlan, n: int, shape,
                 trajectories: int = 0, evals: int = 1, labels: np.ndarray | None = None) -> Callable[..., SampleResult]:
    """sampler(params, seed[, rtol, atol]) -> SampleResult for any registered solver.

    apply_fn(params) -> net(t, x); shape: one point's shape ((d,) or an int d, or (H, W, C));
    evals: network evaluations per call of net (2 under classifier-free guidance); labels: the
    classes a conditional model is sampled at (recorded in the result)."""
    check_fits(plan, process)
    spec = SAMPLERS.get(plan.solver)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    times = spec.times(process, plan)

    mesh = data_mesh()  # several devices: the samples split over them by rows (devices.py)

    def run(params, key, times, rtol, atol):
        x1 = shard_rows(process.prior_sample(key, (n, *shape)), mesh)
        ctx = Context(process, apply_fn(params), x1, jax.random.fold_in(key, NOISE_SALT), times, rtol, atol, plan,
                      trajectories)
        sol = spec.solve(ctx)
        # the samples whole on every device: every process of a multi-host run can read them
        return sol._replace(x=gathered(sol.x, mesh))

    program = Program(run)

    def sampler(params, seed: int, rtol: float | None = None, atol: float | None = None) -> SampleResult:
        """Tolerances default to the plan's; they are arguments of the compiled program."""
        rtol = plan.rtol if rtol is None else rtol
        atol = plan.atol if atol is None else atol
        args = (params, jax.random.key(seed), times, jnp.float32(rtol or 0.0), jnp.float32(atol or 0.0))
        sol, seconds = program(*args)
        max_steps = plan.max_steps if plan.adaptive else plan.steps
        check_solve(replace(plan, rtol=rtol, atol=atol).label(), sol.ok, sol.limit, sol.x, max_steps)
        steps = int(sol.steps)
        return SampleResult(
            samples=np.asarray(sol.x), nfe=evals * spec.nfe(plan, steps), steps=steps, accepted=int(sol.accepted),
            rejected=int(sol.rejected), seconds=seconds,
            trajectories=np.asarray(sol.path) if trajectories else None,
            traj_times=np.asarray(times) if trajectories else None, labels=labels,
        )

    # the traced function, its grid and its evaluations per call (sampling/fast.py exports them)
    sampler.run, sampler.times, sampler.evals = run, times, evals
    return sampler
