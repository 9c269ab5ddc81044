"""SampleResult.nfe against a vector field that counts its own calls, for every ODE solver."""

from __future__ import annotations

import pytest

from cases import float32_steps, ode_solvers, order_of
from diffcli.sampling.registry import SAMPLERS

ODE_SOLVERS = ode_solvers()
FIXED = [(s, n) for s in ODE_SOLVERS for n in float32_steps(order_of(s))[1]]
ADAPTIVE = [s for s in ODE_SOLVERS if SAMPLERS.get(s).adaptive]
TOLS = [1e-1, 1e-2, 1e-3, 1e-4]
FORCED = {"a": 1.0, "b": 3.0, "w": 30.0}  # an oscillating forcing makes the controller reject steps


@pytest.mark.parametrize("solver, steps", FIXED)
def test_fixed_step_nfe_is_the_counted_calls(ode_bench, solver, steps):
    s = ode_bench.solve(solver, steps)
    r = s.result
    assert s.calls > 0
    assert r.nfe == s.calls
    assert (r.steps, r.accepted, r.rejected) == (steps, steps, 0)


@pytest.mark.parametrize("solver, steps, nfe", [("euler", 10, 10), ("heun", 10, 20), ("tsit5", 10, 61),
                                                 ("dopri5", 10, 61)])
def test_known_nfe(ode_bench, solver, steps, nfe):
    """The counts the reference write-up states, by name (stages from the diffrax tableau)."""
    assert ode_bench.solve(solver, steps).result.nfe == nfe


@pytest.mark.parametrize("solver", ADAPTIVE)
def test_adaptive_nfe_is_the_counted_calls(ode_bench, solver):
    rejected = 0
    nfes = []
    for tol in TOLS:
        s = ode_bench.solve(solver, tol=tol, **FORCED)
        r = s.result
        assert r.nfe == s.calls, f"{solver} tol {tol}: reported {r.nfe}, counted {s.calls}"
        assert r.steps == r.accepted + r.rejected
        rejected += r.rejected
        nfes.append(r.nfe)
    # the cases exercised rejected steps too (they cost evaluations as well) …
    assert rejected > 0
    # … and tighter tolerances cost more evaluations
    assert nfes == sorted(nfes) and nfes[-1] > nfes[0]


@pytest.mark.parametrize("solver", ADAPTIVE)
def test_adaptive_nfe_on_a_smooth_field(ode_bench, solver):
    for tol in (1e-2, 1e-6):
        s = ode_bench.solve(solver, tol=tol, a=1.0)
        assert s.result.nfe == s.calls
