"""The probability-flow ODE through diffrax, from t1 (prior) to t0 (data), with any diffrax solver.

One program per (solver, fixed-steps-or-adaptive, n, shape, trajectories); the network
parameters, the seed's key, the time grid and the tolerances are its arguments. Fixed steps
walk the grid with StepTo; adaptive solves use a PID controller with the plan's coefficients
and error norm, integrating forward in s = t1 − t, dx/ds = −f(t1 − s, x).

The first adaptive step is chosen by Hairer & Wanner's rule (Solving ODEs I, II.4: from ‖x‖,
‖f(x)‖ and the change of f over a trial Euler step, all scaled by the tolerances — what
torchdiffeq and OrdinaryDiffEq do). diffrax has the rule too, but returns a fixed 0.01 for any
term it has wrapped, which it always does (measured with diffrax 0.7: dt0=None took the very
steps of dt0 = 0.01 of the interval), so it is written out here (initial_step); `dt0_frac`
(--dt0-frac) fixes the first step instead. The first evaluation f(x1) is made here and handed
to diffrax as the FSAL solver's state: left to diffrax, a rejected first step evaluates it
again, which its statistics do not show.

Everything counted comes from the diffrax solver itself: its order (`solver.order`), whether it
has an embedded error estimate (an AbstractAdaptiveSolver), and its evaluations per step from
its Butcher tableau (stages, minus one when the last stage is the next step's first: FSAL,
which costs one evaluation before the first step). A solver without a tableau (Euler) takes one.
NFE = evals_per_step·(accepted + rejected steps) + the evaluations before the first step (the
FSAL first stage or the first-step rule's f(x1), and the rule's trial evaluation), checked
against a counting network in tests/sampling.
"""

from __future__ import annotations

import diffrax
import jax.numpy as jnp

from diffcli.sampling.driver import Context, Solve, diffrax_solve
from diffcli.sampling.norms import NORMS
from diffcli.sampling.registry import Sampler

N_TRAJ_TIMES = 101  # saved times along trajectories of adaptive solves


def initial_step(f, t, y, f0, order: int, rtol, atol, norm):
    """Hairer & Wanner's first step size for dy/dt = f(t, y) from (t, y) forward, given f0 = f(t, y);
    one more evaluation of f."""
    scale = atol + jnp.abs(y) * rtol
    d0, d1 = norm(y / scale), norm(f0 / scale)
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.maximum(d1, 1e-30))
    f1 = f(t + h0, y + h0 * f0)
    d2 = norm((f1 - f0) / scale) / h0
    big = jnp.maximum(d1, d2)
    h1 = jnp.where(big <= 1e-15, jnp.maximum(1e-6, h0 * 1e-3), (0.01 / jnp.maximum(big, 1e-30)) ** (1.0 / order))
    return jnp.minimum(100 * h0, h1)


def stage_counts(solver: diffrax.AbstractSolver) -> tuple[int, int]:
    """(evaluations per step, evaluations before the first step) of a diffrax solver."""
    tableau = getattr(solver, "tableau", None)
    if tableau is None:
        return 1, 0
    fsal = bool(tableau.fsal)
    return len(tableau.b_sol) - fsal, int(fsal)


class OdeSolver(Sampler):
    """A diffrax solver on the probability-flow ODE."""

    needs = frozenset({"ode"})

    def __init__(self, solver: type[diffrax.AbstractSolver], summary: str):
        s = solver()
        self.solver = solver
        self.summary = summary
        self.order = s.order(None)
        self.adaptive = isinstance(s, diffrax.AbstractAdaptiveSolver)
        self.evals_per_step, self.initial_evals = stage_counts(s)
        self.fsal = bool(self.initial_evals)

    def times(self, process, plan):
        if plan.adaptive:
            return jnp.linspace(float(process.t1), float(process.t0), N_TRAJ_TIMES)
        return super().times(process, plan)

    def nfe(self, plan, steps: int) -> int:
        """plan None: a solve of diffrax's own making (the likelihood's), first stage left to diffrax."""
        if plan is None or not plan.adaptive:
            return self.evals_per_step * steps + self.initial_evals
        auto = plan.dt0_frac is None
        return self.evals_per_step * steps + (self.fsal or auto) + auto

    def solve(self, c: Context) -> Solve:
        p, plan = c.process, c.plan
        drift = p.ode_drift(c.net)
        t1, t0 = float(p.t1), float(p.t0)
        saveat = diffrax.SaveAt(ts=c.times) if c.trajectories else diffrax.SaveAt(t1=True)
        if not plan.adaptive:  # a fixed grid, from its first time to its last (any part of [t0, t1])
            sol = diffrax.diffeqsolve(
                diffrax.ODETerm(lambda t, y, args: drift(t, y)), self.solver(), t0=c.times[0], t1=c.times[-1],
                dt0=None, y0=c.x1, stepsize_controller=diffrax.StepTo(ts=c.times), saveat=saveat, max_steps=plan.steps,
                throw=False)
            return diffrax_solve(sol, c.trajectories)
        norm = NORMS[plan.norm]
        ctrl = diffrax.PIDController(rtol=c.rtol, atol=c.atol, pcoeff=plan.pcoeff, icoeff=plan.icoeff,
                                     dcoeff=plan.dcoeff, norm=norm)

        def forward(s, y, args=None):  # dx/ds, s = t1 − t
            return -drift(t1 - s, y)

        auto = plan.dt0_frac is None
        f0 = forward(0.0, c.x1) if self.fsal or auto else None
        dt0 = jnp.minimum(initial_step(forward, 0.0, c.x1, f0, self.order, c.rtol, c.atol, norm), t1 - t0) if auto \
            else plan.dt0_frac * (t1 - t0)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(forward), self.solver(), t0=0.0, t1=t1 - t0, dt0=dt0, y0=c.x1, stepsize_controller=ctrl,
            saveat=diffrax.SaveAt(ts=t1 - c.times) if c.trajectories else saveat, max_steps=plan.max_steps,
            solver_state=(jnp.array(False), f0) if self.fsal else None, throw=False)
        return diffrax_solve(sol, c.trajectories)
