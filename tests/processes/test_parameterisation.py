"""Conversions between ε, score, x0 and velocity: every pair round-trips, on every process,
and a prediction computed from (x0, ε) converts back to that same (x0, ε)."""

import itertools

import jax
import numpy as np
import pytest

from cases import process_cases
from diffcli.processes import PROCESSES, get_process
from diffcli.processes.parameterisation import PREDICTIONS, convert, from_x0_eps, to_x0_eps

# Every process with a coefficient path (capability "path"), under each of its sources.
PATHS = process_cases("path")


def _kinds(p):
    # The score needs Gaussian noise; the other three hold for any noise (rf's source sample).
    return [k for k in PREDICTIONS if k != "score" or "score" in p.capabilities]


def _draw(p, n=64, seed=0):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    t = jax.random.uniform(k1, (n,), minval=0.05, maxval=0.95)  # interior: α, σ > 0
    x0 = jax.random.normal(k2, (n, 3))
    eps = jax.random.normal(k3, (n, 3))
    c = p.coeffs(t)
    return t, x0, eps, c, c.like(x0).alpha * x0 + c.like(x0).sigma * eps


@pytest.mark.parametrize("case", PATHS, ids=[c[0] for c in PATHS])
def test_round_trips(case):
    _, name, opts = case
    p = get_process(name, **opts)
    t, x0, eps, c, x = _draw(p)
    for src, dst in itertools.permutations(_kinds(p), 2):
        out = from_x0_eps(x0, eps, c, src)
        back = convert(convert(out, x, c, src, dst), x, c, dst, src)
        np.testing.assert_allclose(back, out, rtol=2e-4, atol=2e-4, err_msg=f"{src} -> {dst} -> {src}")


@pytest.mark.parametrize("case", PATHS, ids=[c[0] for c in PATHS])
def test_prediction_recovers_x0_and_eps(case):
    _, name, opts = case
    p = get_process(name, **opts)
    t, x0, eps, c, x = _draw(p, seed=1)
    for kind in _kinds(p):
        got_x0, got_eps = to_x0_eps(from_x0_eps(x0, eps, c, kind), x, c, kind)
        np.testing.assert_allclose(got_x0, x0, rtol=1e-4, atol=2e-4, err_msg=kind)
        np.testing.assert_allclose(got_eps, eps, rtol=1e-4, atol=2e-4, err_msg=kind)


def test_closed_forms_on_rectified_flow():
    """α = 1 − t, σ = t: velocity = ε − x0, x0 = x − t·v, score = −ε/t."""
    p = get_process("rf")
    t, x0, eps, c, x = _draw(p, seed=2)
    v = eps - x0
    np.testing.assert_allclose(convert(v, x, c, "velocity", "x0"), x - t[:, None] * v, atol=1e-5)
    np.testing.assert_allclose(convert(v, x, c, "velocity", "score"), -eps / t[:, None], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", PATHS, ids=[c[0] for c in PATHS])
def test_output_scaling_round_trips(case):
    """predict ∘ net_from_prediction is the identity (the bridge's x̂0 = x + (t + 0.05)·net)."""
    _, name, opts = case
    p = get_process(name, **opts)
    t, x0, eps, c, x = _draw(p, seed=3)
    pred = x0 + 0.1
    net_out = p.net_from_prediction(t, x, pred)
    np.testing.assert_allclose(p.predict(lambda t_, x_: net_out)(t, x), pred, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["eps", "score", "x0", "velocity"])
def test_every_prediction_is_accepted_where_it_is_an_option(kind):
    from diffcli.registry import options_of

    for name in PROCESSES.names():
        if "prediction" in options_of(PROCESSES.get(name)):
            assert get_process(name, prediction=kind).prediction == kind
