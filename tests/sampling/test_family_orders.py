"""Convergence order of every deterministic sampler on the probability-flow ODE of the smooth
Gaussian paths.

With the closed-form Gaussian network the probability-flow ODE has an exact solution
(processes/oracle.py flow_map), so the global error at the sampler's end is known. The fitted
slope of log(error) against log(step size) must reach the sampler's stated order: within 0.1 of
it for orders 1 and 2, and at least order − 1 for the higher orders (whose error leaves the
asymptotic range quickly). Higher is no failure: on these linear fields a method can beat its
order (the explicit midpoint rule converges at order 3 on the Gaussian bridge's field).
An exponential integrator (a step sampler working in λ = log(α/σ)) started where α = 0
(rectified flow and the bridge at t = 1, λ = −∞) takes steps of O(1) in λ near the start
whatever the grid's h, and converges as h^p·log(1/h) there (measured: DPM-Solver++(2M) on rf,
error/(h²·log(1/h)) → 2.46 from 256 to 2048 steps); its slope is fitted to error/log(1/h).
Run in float64, so rounding stays far below the errors measured. Processes with a discrete
chain (capability "timesteps") are left out: their β(t) is piecewise constant, so the field has
kinks at every timestep and no solver keeps its order.

The diffrax ODE solvers are checked with a constant step size given as an argument (one
compiled program per solver and process; test_fixed_steps_are_the_sampler checks that this is
the very solve the sampler runs), each on two of the processes in turn. The step samplers
(exponential integrators such as DDIM and DPM-Solver++) run through the sampling driver itself,
on every smooth process they fit.
"""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import ode_solvers, order_of, process_cases
from diffcli.processes import get_process
from diffcli.processes.oracle import flow_map, gaussian, oracle, posterior_x0_eps
from diffcli.sampling.driver import make_sampler
from diffcli.sampling.plan import make_plan
from diffcli.sampling.registry import SAMPLERS, fits

MEAN, COV = [0.5, -0.25], [[1.0, 0.5], [0.5, 0.75]]
# step counts by order, in the asymptotic range and above float64's rounding: the ODE solvers'
# (a constant step, one program; higher orders than listed get HIGH) …
STEPS = {1: [64, 128, 256, 512], 2: [64, 128, 256, 512], 3: [8, 16, 32, 64], 4: [4, 8, 16, 32], 5: [4, 8, 16, 32]}
HIGH = [2, 3, 4, 6, 8, 12]
# … and the step samplers' (the multistep start-up and the stiff end near t0 need more)
SAMPLER_STEPS = {1: [64, 128, 256, 512], 2: [128, 256, 512, 1024], 3: [32, 64, 128, 256]}
N = 64

SMOOTH = [c for c in process_cases("score") if "timesteps" not in get_process(c[1], **c[2]).capabilities]
ODE = ode_solvers()
ODE_CASES = [(s, SMOOTH[(i + k) % len(SMOOTH)]) for i, s in enumerate(ODE) for k in (0, len(SMOOTH) // 2)]
STEP_CASES = [(s, c) for s in SAMPLERS.names() if s not in ODE and order_of(s) is not None
              for c in SMOOTH if fits(SAMPLERS.get(s), get_process(c[1], **c[2]))]


def check_slope(label, steps, errors, order):
    slope = np.polyfit(np.log(1.0 / np.asarray(steps)), np.log(errors), 1)[0]
    if order <= 2:
        assert slope > order - 0.1, f"{label}: errors {errors}, order {slope:.2f}"
    else:
        assert slope >= order - 1, f"{label}: errors {errors}, order {slope:.2f}"


def fixed_step_solve(process, solver, g, x1):
    """x at t0 from x1 at t1 by `solver` at a constant step dt (a traced argument)."""
    drift = process.ode_drift(oracle(process)(g))

    @jax.jit
    def solve(dt):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: drift(t, y)), SAMPLERS.get(solver).solver(), process.t1, process.t0, dt,
            x1, stepsize_controller=diffrax.ConstantStepSize(), max_steps=max(max(STEPS.values())),
        ).ys[-1]

    return solve


@pytest.mark.parametrize("solver,case", ODE_CASES, ids=[f"{s}-{c[0]}" for s, c in ODE_CASES])
def test_ode_solver_order(solver, case):
    _, name, opts = case
    with jax.enable_x64(True):
        p, g = get_process(name, **opts), gaussian(MEAN, COV)
        x1 = p.prior_sample(jax.random.key(0), (N, 2))
        exact = np.asarray(flow_map(p, g, p.t1, p.t0, x1))
        steps = STEPS.get(order_of(solver), HIGH)
        solve = fixed_step_solve(p, solver, g, x1)
        errors = [np.abs(np.asarray(solve(-(p.t1 - p.t0) / s)) - exact).max() for s in steps]
        check_slope(f"{name} {solver}", steps, errors, order_of(solver))


@pytest.mark.parametrize("solver,case", STEP_CASES, ids=[f"{s}-{c[0]}" for s, c in STEP_CASES])
def test_step_sampler_order(solver, case):
    _, name, opts = case
    spec = SAMPLERS.get(solver)
    with jax.enable_x64(True):
        p, g = get_process(name, **opts), gaussian(MEAN, COV)
        x1 = p.prior_sample(jax.random.key(0), (N, 2))
        exact = np.asarray(flow_map(p, g, p.t1, p.t0, x1))
        if spec.ends_at_data and p.t0 > 0:  # its last step, t0 -> 0, is the exact x̂0 step (DDIM's)
            x0, eps = posterior_x0_eps(p, g, jnp.asarray(p.t0, exact.dtype), exact)
            c = p.coeffs(jnp.asarray(0.0, exact.dtype))
            exact = np.asarray(c.alpha * x0 + c.sigma * eps)
        steps = SAMPLER_STEPS[spec.order]
        errors = []
        for s in steps:
            plan = make_plan(solver, steps=s, grid="uniform", process=p)
            r = make_sampler(p, oracle(p), plan, N, (2,))(g, 0)
            errors.append(np.abs(r.samples - exact).max())
        if float(p.coeffs(p.t1).alpha) == 0:  # λ(t1) = −∞: order p with a log factor
            errors = [e / np.log(s) for e, s in zip(errors, steps)]
        check_slope(f"{name} {solver}", steps, errors, spec.order)


def test_fixed_steps_are_the_sampler():
    p, g = get_process("vpsde"), gaussian(MEAN, COV)
    x1 = p.prior_sample(jax.random.key(3), (N, 2))  # the sampler's own start for seed 3
    r = make_sampler(p, oracle(p), make_plan("heun", steps=16, grid="uniform"), N, (2,))(g, 3)
    np.testing.assert_allclose(r.samples, fixed_step_solve(p, "heun", g, x1)(-(p.t1 - p.t0) / 16), rtol=1e-5, atol=1e-5)
