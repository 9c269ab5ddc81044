"""ODE solvers against closed forms: convergence order on a linear field, adaptive accuracy.

The field is v(x, t) = a·x, integrated from t1 = 1 down to t0 = 0, so x(0) = x(1)·exp(−a).
Step counts and a are chosen so that every error stays between ~1e-2 and ~1e-5 (relative):
in the asymptotic regime and far above float32 roundoff (~1e-7).
"""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.errors import SolverError
from diffcli.sampling.solvers import ODE_SOLVERS

# solver -> (a, step counts); the step counts are the ones test_nfe.py compiles too
CONVERGENCE = {
    "euler": (1.0, [10, 20, 40]),
    "heun": (1.0, [5, 10, 20]),
    "tsit5": (4.0, [3, 5, 10]),
    "dopri5": (4.0, [3, 5, 10]),
}
ADAPTIVE = [s for s in ODE_SOLVERS.names() if ODE_SOLVERS.get(s).adaptive]


def rel_error(solve) -> float:
    return float(np.abs(solve.result.samples - solve.exact).max() / np.abs(solve.exact).max())


def test_every_solver_has_convergence_parameters():
    assert set(ODE_SOLVERS.names()) <= set(CONVERGENCE)


@pytest.mark.parametrize("solver", sorted(CONVERGENCE))
def test_convergence_slope_matches_the_order(ode_bench, solver):
    if solver not in ODE_SOLVERS:
        pytest.skip(f"{solver} is not registered")
    order = ODE_SOLVERS.get(solver).order
    a, steps = CONVERGENCE[solver]
    errs = [rel_error(ode_bench.solve(solver, n, a=a)) for n in steps]
    assert all(1e-6 < e < 0.1 for e in errs), errs  # the float32-safe band the test relies on
    slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    if order <= 2:
        assert abs(slope - order) < 0.2, (slope, errs)
    else:
        # high order: at float32-safe step counts the error is not yet purely asymptotic,
        # but it must fall at least like h^(order − 1)
        assert order - 1 <= slope < order + 2.5, (slope, errs)


@pytest.mark.parametrize("solver", sorted(CONVERGENCE))
def test_fixed_steps_follow_the_exact_flow(ode_bench, solver):
    if solver not in ODE_SOLVERS:
        pytest.skip(f"{solver} is not registered")
    a, steps = CONVERGENCE[solver]
    s = ode_bench.solve(solver, steps[-1], a=a, seed=1)  # another seed: another prior draw, same program
    assert s.result.samples.shape == (16, 2)
    assert rel_error(s) < 0.05


def test_orders_are_as_documented():
    want = {"euler": 1, "heun": 2, "tsit5": 5, "dopri5": 5}
    for name in ODE_SOLVERS.names():
        if name in want:
            assert ODE_SOLVERS.get(name).order == want[name]


@pytest.mark.parametrize("solver", ADAPTIVE)
def test_adaptive_at_tol_1e_6_is_accurate_to_1e_5(ode_bench, solver):
    for a in (1.0, -1.0):
        s = ode_bench.solve(solver, tol=1e-6, a=a)
        err = float(np.abs(s.result.samples - s.exact).max())
        assert err < 1e-5, (a, err)
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
