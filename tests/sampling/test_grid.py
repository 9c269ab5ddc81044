"""Time grids of the fixed-step solvers: from t1 (prior) down to t0 (data). Every registered grid
is checked on every registered process that it fits; the named grids against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.errors import DiffcliError
from diffcli.processes.base import PROCESSES
from diffcli.sampling.grids import GRIDS
from diffcli.sampling.plan import SolverPlan

# (n_steps, t1, t0): the rf interval, a diffusion-like interval that stops short of 0, a reversed one
CASES = [(1, 1.0, 0.0), (7, 1.0, 0.0), (20, 1.0, 0.0), (10, 1.0, 1e-3), (5, 2.5, 0.5)]


def plan(name: str = "uniform", power: float = 1.5, rho: float = 7.0, n: int = 1, t1: float = 1.0,
         t0: float = 0.0) -> SolverPlan:
    """A plan on the named grid; a fitted one carries (uniform) times of its own."""
    times = tuple(np.linspace(t1, t0, n + 1).tolist()) if name == "fitted" else None
    return SolverPlan("euler", n, grid=name, grid_power=power, grid_rho=rho, grid_times=times)


def grid(name, n, t1, t0, power=1.5, rho=7.0, process=None) -> np.ndarray:
    process = process or PROCESSES.build("rf", {})
    return np.asarray(GRIDS.get(name)(process, plan(name, power, rho, n, t1, t0), n, t1, t0), dtype=np.float64)


def fits(name: str, process) -> bool:
    return name not in ("edm", "logsnr") or "path" in process.capabilities


PROCS = PROCESSES.names()


@pytest.mark.parametrize("name", GRIDS.names())
@pytest.mark.parametrize("model", PROCS)
@pytest.mark.parametrize("n", [1, 4, 20])
def test_every_grid_runs_from_t1_to_t0_strictly_down(name, model, n):
    p = PROCESSES.build(model, {})
    t1, t0 = float(p.t1), float(p.t0)
    if not fits(name, p):
        with pytest.raises(DiffcliError, match="path"):
            grid(name, n, t1, t0, process=p)
        return
    t = grid(name, n, t1, t0, process=p)
    assert t.shape == (n + 1,)
    assert t[0] == t1 and t[-1] == t0  # exact end points
    assert np.all(np.diff(t) < 0)  # strictly decreasing: every step moves towards the data


@pytest.mark.parametrize("n, t1, t0", CASES)
def test_uniform_closed_form(n, t1, t0):
    i = np.arange(n + 1)
    np.testing.assert_allclose(grid("uniform", n, t1, t0), t1 - (t1 - t0) * i / n, atol=1e-6)


@pytest.mark.parametrize("p", [0.5, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("n, t1, t0", CASES)
def test_power_closed_form(p, n, t1, t0):
    i = np.arange(n + 1)
    np.testing.assert_allclose(grid("power", n, t1, t0, power=p), t0 + (t1 - t0) * (1 - i / n) ** p, atol=1e-6)


def test_power_1_is_uniform_exactly_on_the_unit_interval():
    np.testing.assert_array_equal(grid("power", 16, 1.0, 0.0, power=1.0), grid("uniform", 16, 1.0, 0.0))


def test_power_above_1_is_denser_near_the_data():
    dt = -np.diff(grid("power", 20, 1.0, 0.0, power=2.0))
    assert np.all(np.diff(dt) < 0)  # steps shrink towards t0
    dt = -np.diff(grid("power", 20, 1.0, 0.0, power=0.5))
    assert np.all(np.diff(dt) > 0)


@pytest.mark.parametrize("rho", [3.0, 7.0])
def test_edm_is_karras_rho_schedule_in_the_ve_noise_level(rho):
    """VE: α = 1, so the noise level is σ(t) itself: σ_i = (σmax^{1/ρ} + i/n (σmin^{1/ρ} − σmax^{1/ρ}))^ρ."""
    p = PROCESSES.build("vesde", {})
    n = 12
    t = grid("edm", n, 1.0, 0.0, rho=rho, process=p)
    s = np.asarray(p.coeffs(np.asarray(t, np.float32)).sigma, np.float64)
    hi, lo = p.sigma_max ** (1 / rho), p.sigma_min ** (1 / rho)
    np.testing.assert_allclose(s, (hi + np.arange(n + 1) / n * (lo - hi)) ** rho, rtol=2e-3)


def test_edm_on_rectified_flow_is_the_power_grid_with_rho():
    """α(1) = 0 makes σ/α infinite at t1, so the schedule runs in σ = t: the power grid, p = ρ."""
    np.testing.assert_allclose(grid("edm", 10, 1.0, 0.0, rho=4.0), grid("power", 10, 1.0, 0.0, power=4.0), atol=1e-4)


def test_logsnr_steps_are_equal_in_half_log_snr():
    p = PROCESSES.build("vpsde", {})
    t = grid("logsnr", 10, float(p.t1), float(p.t0), process=p)
    c = p.coeffs(np.asarray(t, np.float32))
    lam = np.log(np.asarray(c.alpha, np.float64)) - np.log(np.asarray(c.sigma, np.float64))
    np.testing.assert_allclose(np.diff(lam), np.diff(lam).mean(), rtol=2e-3)


def test_fitted_without_times_says_how_to_fit():
    p = PROCESSES.build("rf", {})
    with pytest.raises(DiffcliError, match="grid fit"):
        GRIDS.get("fitted")(p, SolverPlan("euler", 4, grid="fitted"), 4, 1.0, 0.0)


def test_unknown_grid_is_an_error():
    with pytest.raises(DiffcliError) as e:
        GRIDS.get("zigzag")
    assert "zigzag" in str(e.value) and "uniform" in str(e.value)
