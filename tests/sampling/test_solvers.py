"""ODE solvers against closed forms: convergence order on a linear field, adaptive accuracy.

The field is v(t, x) = a·x, integrated from t1 = 1 down to t0 = 0, so x(0) = x(1)·exp(−a).
Step counts and a are chosen so that every error stays between ~1e-2 and ~1e-5 (relative):
in the asymptotic regime and far above float32 roundoff (~1e-7).
"""

from __future__ import annotations

import diffrax
import numpy as np
import pytest

from cases import FLOAT32_MAX_ORDER, float32_steps, ode_solvers, order_of
from diffcli.errors import SolverError
from diffcli.sampling.registry import SAMPLERS

ODE_SOLVERS = ode_solvers()
ADAPTIVE = [s for s in ODE_SOLVERS if SAMPLERS.get(s).adaptive]


def rel_error(solve) -> float:
    return float(np.abs(solve.result.samples - solve.exact).max() / np.abs(solve.exact).max())


@pytest.mark.parametrize("solver", ODE_SOLVERS)
def test_convergence_slope_matches_the_order(ode_bench, solver):
    order = order_of(solver)
    if order > FLOAT32_MAX_ORDER:
        pytest.skip(f"order {order} is beyond float32's resolution here; test_family_orders measures it in float64")
    a, steps = float32_steps(order)
    errs = [rel_error(ode_bench.solve(solver, n, a=a)) for n in steps]
    assert all(1e-6 < e < 0.1 for e in errs), errs  # the float32-safe band the test relies on
    slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    if order <= 2:
        assert abs(slope - order) < 0.2, (slope, errs)
    else:
        # high order: at float32-safe step counts the error is not yet purely asymptotic,
        # but it must fall at least like h^(order − 1)
        assert order - 1 <= slope < order + 2.5, (slope, errs)


@pytest.mark.parametrize("solver", ODE_SOLVERS)
def test_fixed_steps_follow_the_exact_flow(ode_bench, solver):
    a, steps = float32_steps(order_of(solver))
    s = ode_bench.solve(solver, steps[-1], a=a, seed=1)  # another seed: another prior draw, same program
    assert s.result.samples.shape == (16, 2)
    assert rel_error(s) < 0.05


def test_facts_come_from_diffrax():
    """Order, adaptivity and evaluations per step are read off the diffrax solver (the NFE tests
    then check the evaluations against a counting network)."""
    want = {"euler": (1, False, 1, 0), "heun": (2, True, 2, 0), "tsit5": (5, True, 6, 1), "dopri5": (5, True, 6, 1)}
    for name in ODE_SOLVERS:
        spec = SAMPLERS.get(name)
        assert spec.order == spec.solver().order(None)
        assert spec.adaptive == isinstance(spec.solver(), diffrax.AbstractAdaptiveSolver)
        if name in want:
            assert (spec.order, spec.adaptive, spec.evals_per_step, spec.initial_evals) == want[name]


@pytest.mark.parametrize("solver", ADAPTIVE)
def test_adaptive_error_is_within_a_few_tolerances(ode_bench, solver):
    """At rtol = atol = 1e-6 every coordinate's global error is within 3·(atol + rtol·|x|), the
    tolerance in its own mixed sense: on the growing solution (a = −1, |x| up to 6) a
    low-order pair takes more steps and accumulates more (Bosh3: 1.9e-6 relative)."""
    tol = 1e-6
    for a in (1.0, -1.0):
        s = ode_bench.solve(solver, tol=tol, a=a)
        ratio = np.abs(s.result.samples - s.exact) / (tol * (1 + np.abs(s.exact)))
        assert ratio.max() < 3, (a, float(ratio.max()))
        assert s.result.rejected + s.result.accepted == s.result.steps


@pytest.mark.parametrize("solver", ADAPTIVE)
def test_adaptive_error_shrinks_with_the_tolerance(ode_bench, solver):
    errs = [float(np.abs(ode_bench.solve(solver, tol=tol, a=-2.0).result.samples
                         - ode_bench.exact(-2.0, 0)).max()) for tol in (1e-2, 1e-6)]
    assert errs[1] < errs[0] / 10, errs


def test_adaptive_solver_at_its_step_limit_raises_solver_error(ode_bench):
    with pytest.raises(SolverError) as e:
        ode_bench.solve("tsit5", tol=1e-5, max_steps=2, a=1.0, b=3.0, w=30.0)
    assert e.value.exit_code == 3
    assert "max_steps" in str(e.value) and "\n" not in str(e.value)
