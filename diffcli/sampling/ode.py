"""The probability-flow ODE through diffrax, from t1 (prior) to t0 (data), with any diffrax solver.

One program per (solver, fixed-steps-or-adaptive, n, shape, trajectories); the network
parameters, the seed's key, the time grid and the tolerances are its arguments. Fixed steps
walk the grid with StepTo; adaptive solves use a PID controller with the plan's coefficients
and error norm, starting with a step of dt0_frac of the interval.

Everything counted comes from the diffrax solver itself: its order (`solver.order`), whether it
has an embedded error estimate (an AbstractAdaptiveSolver), and its evaluations per step from
its Butcher tableau (stages, minus one when the last stage is the next step's first: FSAL,
which costs one evaluation before the first step). A solver without a tableau (Euler) takes one.
NFE = evals_per_step·(accepted + rejected steps) + initial_evals, checked against a counting
network in tests/sampling.
"""

from __future__ import annotations

import diffrax
import jax.numpy as jnp

from diffcli.sampling.driver import Context, Solve, diffrax_solve
from diffcli.sampling.norms import NORMS
from diffcli.sampling.registry import Sampler

N_TRAJ_TIMES = 101  # saved times along trajectories of adaptive solves


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

    def times(self, process, plan):
        if plan.adaptive:
            return jnp.linspace(float(process.t1), float(process.t0), N_TRAJ_TIMES)
        return super().times(process, plan)

    def nfe(self, plan, steps: int) -> int:
        return self.evals_per_step * steps + self.initial_evals

    def solve(self, c: Context) -> Solve:
        p, plan = c.process, c.plan
        drift = p.ode_drift(c.net)
        t1, t0 = float(p.t1), float(p.t0)
        if plan.adaptive:
            ctrl = diffrax.PIDController(rtol=c.rtol, atol=c.atol, pcoeff=plan.pcoeff, icoeff=plan.icoeff,
                                         dcoeff=plan.dcoeff, norm=NORMS[plan.norm])
        else:
            ctrl = diffrax.StepTo(ts=c.times)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: drift(t, y)), self.solver(), t0=t1, t1=t0,
            dt0=-plan.dt0_frac * (t1 - t0) if plan.adaptive else None, y0=c.x1,
            stepsize_controller=ctrl, saveat=diffrax.SaveAt(ts=c.times) if c.trajectories else diffrax.SaveAt(t1=True),
            max_steps=plan.max_steps if plan.adaptive else plan.steps, throw=False,
        )
        return diffrax_solve(sol, c.trajectories)
