"""Convergence order of every ODE solver on the probability-flow ODE of every smooth process.

With the closed-form Gaussian network the probability-flow ODE has an exact solution
(processes/oracle.py flow_map), so the global error at t0 is known. The fitted slope of
log(error) against log(step size) must be the solver's order: Euler ≈ 1, Heun ≈ 2, and at
least 4 for the fifth-order Tsit5 and Dopri5. Run in float64, so rounding stays far below the
errors measured. (DDPM is left out: its β(t) is piecewise constant, so its field has kinks at
every timestep and no solver keeps its order across them.)

The solves use diffrax with a constant step size given as an argument, one compiled program per
solver and process; test_fixed_steps_are_the_sampler checks that this is the very solve that
make_ode_sampler runs.
"""

import diffrax
import jax
import numpy as np
import pytest

from diffcli.processes import get_process
from diffcli.processes.oracle import flow_map, gaussian, oracle
from diffcli.sampling.ode import make_ode_sampler
from diffcli.sampling.plan import make_plan
from diffcli.sampling.solvers import ODE_SOLVERS

MEAN, COV = [0.5, -0.25], [[1.0, 0.5], [0.5, 0.75]]
PROCESSES = [("vpsde", {}), ("vesde", {}), ("rf", {}), ("bridge", {"source": "gaussian"})]
STEPS = {1: [64, 128, 256, 512], 2: [32, 64, 128, 256], 5: [4, 8, 16, 32]}  # by the solver's order
N = 64


def fixed_step_solve(process, solver, g, x1):
    """x at t0 from x1 at t1 by `solver` at a constant step dt (a traced argument)."""
    drift = process.ode_drift(oracle(process)(g))

    @jax.jit
    def solve(dt):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: drift(t, y)), ODE_SOLVERS.get(solver).make(), process.t1, process.t0, dt, x1,
            stepsize_controller=diffrax.ConstantStepSize(), max_steps=max(max(STEPS.values())),
        ).ys[-1]

    return solve


@pytest.mark.parametrize("name,opts", PROCESSES, ids=[n for n, _ in PROCESSES])
def test_convergence_orders(name, opts):
    with jax.enable_x64(True):
        p, g = get_process(name, **opts), gaussian(MEAN, COV)
        x1 = p.prior_sample(jax.random.key(0), (N, 2))
        exact = np.asarray(flow_map(p, g, x1, p.t1, p.t0))
        for solver in ODE_SOLVERS.names():
            order = ODE_SOLVERS.get(solver).order
            steps = np.array(STEPS[order])
            solve = fixed_step_solve(p, solver, g, x1)
            errors = [np.abs(np.asarray(solve(-(p.t1 - p.t0) / s)) - exact).max() for s in steps]
            slope = np.polyfit(np.log(1.0 / steps), np.log(errors), 1)[0]
            if order <= 2:
                assert abs(slope - order) < 0.1, f"{name} {solver}: errors {errors}, order {slope:.2f}"
            else:
                assert slope >= 4, f"{name} {solver}: errors {errors}, order {slope:.2f}"


def test_fixed_steps_are_the_sampler():
    p, g = get_process("vpsde"), gaussian(MEAN, COV)
    x1 = p.prior_sample(jax.random.key(3), (N, 2))  # the sampler's own start for seed 3
    r = make_ode_sampler(p, oracle(p), make_plan("heun", steps=16), N, 2)(g, 3)
    np.testing.assert_allclose(r.samples, fixed_step_solve(p, "heun", g, x1)(-(p.t1 - p.t0) / 16), rtol=1e-5, atol=1e-5)
