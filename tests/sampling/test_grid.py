"""Time grids of the fixed-step solvers: from t1 (prior) down to t0 (data)."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.errors import DiffcliError
from diffcli.sampling.grid import GRIDS

# (n_steps, t1, t0): the rf interval, a diffusion-like interval that stops short of 0, a reversed one
CASES = [(1, 1.0, 0.0), (7, 1.0, 0.0), (20, 1.0, 0.0), (10, 1.0, 1e-3), (5, 2.5, 0.5)]


def grid(name, n, t1, t0, power=1.5) -> np.ndarray:
    return np.asarray(GRIDS.get(name)(n, t1, t0, power=power), dtype=np.float64)


ALL = [("uniform", {}), ("power", {"power": 2.0}), ("power", {"power": 1.5}), ("power", {"power": 0.5}),
       ("power", {"power": 1.0})]


@pytest.mark.parametrize("name, kw", ALL, ids=[f"{n}{kw.get('power', '')}" for n, kw in ALL])
@pytest.mark.parametrize("n, t1, t0", CASES)
def test_endpoints_length_monotone(name, kw, n, t1, t0):
    t = grid(name, n, t1, t0, **kw)
    assert t.shape == (n + 1,)
    assert t[0] == pytest.approx(t1, abs=1e-6)
    assert t[-1] == pytest.approx(t0, abs=1e-6)
    assert np.all(np.diff(t) < 0)  # strictly decreasing: every step moves towards the data


def test_rf_interval_endpoints_are_exact():
    for name in GRIDS.names():
        t = grid(name, 13, 1.0, 0.0)
        assert t[0] == 1.0 and t[-1] == 0.0


@pytest.mark.parametrize("n, t1, t0", CASES)
def test_uniform_closed_form(n, t1, t0):
    i = np.arange(n + 1)
    np.testing.assert_allclose(grid("uniform", n, t1, t0), t1 - (t1 - t0) * i / n, atol=1e-6)


@pytest.mark.parametrize("p", [0.5, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("n, t1, t0", CASES)
def test_power_closed_form(p, n, t1, t0):
    i = np.arange(n + 1)
    np.testing.assert_allclose(grid("power", n, t1, t0, power=p), t0 + (t1 - t0) * (1 - i / n) ** p, atol=1e-6)


@pytest.mark.parametrize("n, t1, t0", CASES)
def test_power_1_is_uniform(n, t1, t0):
    np.testing.assert_allclose(grid("power", n, t1, t0, power=1.0), grid("uniform", n, t1, t0), rtol=0, atol=1e-6)


def test_power_1_is_uniform_exactly_on_the_unit_interval():
    np.testing.assert_array_equal(grid("power", 16, 1.0, 0.0, power=1.0), grid("uniform", 16, 1.0, 0.0))


def test_power_above_1_is_denser_near_the_data():
    dt = -np.diff(grid("power", 20, 1.0, 0.0, power=2.0))
    assert np.all(np.diff(dt) < 0)  # steps shrink towards t0
    dt = -np.diff(grid("power", 20, 1.0, 0.0, power=0.5))
    assert np.all(np.diff(dt) > 0)


def test_unknown_grid_is_an_error():
    with pytest.raises(DiffcliError) as e:
        GRIDS.get("zigzag")
    assert "zigzag" in str(e.value) and "uniform" in str(e.value)
