"""Rectified flow: the interpolant, its loss against an oracle velocity, its ODE drift, its sources."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffcli.processes import get_process
from diffcli.processes.sources import SOURCES

KEY = jax.random.key(0)
N, DIM = 4096, 2
X_STAR = np.array([0.5, -1.0], dtype=np.float32)  # exactly representable: no rounding in x_t − x*


@pytest.fixture(scope="module", params=["gaussian", "uniform-square"])
def rf(request):
    return get_process("rf", source=request.param)


def test_time_convention():
    p = get_process("rf")
    assert (p.t0, p.t1) == (0.0, 1.0)


def test_interpolate_endpoints_and_midpoint():
    p = get_process("rf")
    k1, k2 = jax.random.split(KEY)
    x0 = jax.random.normal(k1, (8, 3))
    x1 = jax.random.normal(k2, (8, 3))
    np.testing.assert_array_equal(p.interpolate(jnp.zeros(8), x0, x1), x0)
    np.testing.assert_array_equal(p.interpolate(jnp.ones(8), x0, x1), x1)
    np.testing.assert_allclose(p.interpolate(jnp.full(8, 0.25), x0, x1), 0.75 * x0 + 0.25 * x1, rtol=1e-6, atol=1e-6)
    # per-row times
    t = jnp.linspace(0, 1, 8)
    np.testing.assert_allclose(p.interpolate(t, x0, x1), (1 - t[:, None]) * x0 + t[:, None] * x1, rtol=1e-6, atol=1e-6)


def _data():
    return jnp.broadcast_to(jnp.asarray(X_STAR), (N, DIM))


def test_oracle_velocity_has_zero_loss(rf):
    # With all data at x*, x_t = t·x_noise + (1 − t)·x*, so the target x_noise − x* equals
    # (x_t − x*)/t exactly: the straight-path oracle.
    def oracle(t, x):
        return (x - X_STAR) / t[:, None]

    loss = float(rf.loss(oracle, KEY, _data()))
    assert loss < 1e-6, loss  # float32 rounding only


def test_zero_field_loss_is_the_second_moment_of_x_noise_minus_x_star(rf):
    # loss = mean over rows and coordinates of (x_noise − x*)²; closed form per source:
    # gaussian E(ε − c)² = 1 + c², uniform on [2, 3]: 1/12 + (2.5 − c)².
    loss = float(rf.loss(lambda t, x: jnp.zeros_like(x), KEY, _data()))
    if rf.source == "gaussian":
        want = np.mean(1 + X_STAR.astype(np.float64) ** 2)
    else:
        want = np.mean(1 / 12 + (2.5 - X_STAR.astype(np.float64)) ** 2)
    assert loss == pytest.approx(want, rel=0.05)
    assert loss > 0.5


def test_a_wrong_field_is_penalised(rf):
    oracle = float(rf.loss(lambda t, x: (x - X_STAR) / t[:, None], KEY, _data()))
    # the oracle with the sign flipped (the field that runs away from the data)
    wrong = float(rf.loss(lambda t, x: -(x - X_STAR) / t[:, None], KEY, _data()))
    assert wrong > 0.1 and wrong > 1e4 * max(oracle, 1e-12)


def test_loss_is_deterministic_given_the_key(rf):
    f = lambda t, x: x * t[:, None]  # noqa: E731
    a = float(rf.loss(f, KEY, _data()))
    b = float(rf.loss(f, KEY, _data()))
    c = float(rf.loss(f, jax.random.key(1), _data()))
    assert a == b and a != c


def test_ode_drift_passes_a_broadcast_time():
    p = get_process("rf")
    seen = {}

    def apply(t, x):
        seen["t"] = t
        return 2.0 * x

    x = jnp.ones((5, 2))
    out = p.ode_drift(apply)(jnp.float32(0.3), x)
    np.testing.assert_allclose(out, 2.0 * x)
    assert seen["t"].shape == (5,) and seen["t"].dtype == x.dtype
    np.testing.assert_allclose(seen["t"], 0.3)


def test_prior_is_the_source():
    g = get_process("rf", source="gaussian").prior_sample(KEY, (20000, 2))
    assert g.shape == (20000, 2) and g.dtype == jnp.float32
    assert abs(float(g.mean())) < 0.03 and abs(float(g.std()) - 1) < 0.03
    u = get_process("rf", source="uniform-square").prior_sample(KEY, (20000, 2))
    assert float(u.min()) >= 2.0 and float(u.max()) <= 3.0
    assert abs(float(u.mean()) - 2.5) < 0.01


def test_source_log_probs():
    x = jnp.array([[0.0, 0.0], [1.0, -2.0], [2.5, 2.5], [3.5, 2.5]])
    lg = np.asarray(SOURCES.get("gaussian").log_prob(x))
    want = -0.5 * np.sum(np.asarray(x) ** 2, 1) - math.log(2 * math.pi)
    np.testing.assert_allclose(lg, want, rtol=1e-6)
    lu = np.asarray(SOURCES.get("uniform-square").log_prob(x))
    assert lu[2] == 0.0 and np.all(np.isneginf(lu[[0, 1, 3]]))
