"""NLL through the probability-flow ODE against the closed-form Gaussian NLL.

With the ideal network, the model's density at t0 is the prior pulled back through the exact
flow map Φ: −log prior(Φ(x)) − log|det ∂Φ/∂x| (oracle.model_nll), which is the data's own
Gaussian NLL at t0 wherever the prior equals the t1 marginal (for VE-SDE it differs by that
prior's mismatch, < 1e-3 nats per dimension at the cat's scale).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import process_cases
from diffcli.errors import DiffcliError
from diffcli.likelihood import make_nll, nll
from diffcli.processes import get_process
from diffcli.processes.oracle import gaussian, log_prob, marginal, model_nll, oracle

MEAN, COV = [0.5, -0.25], [[1.0, 0.5], [0.5, 0.75]]
G = gaussian(MEAN, COV)
N = 1000
DENSITY = process_cases("density")  # every process (and source) with exact likelihoods


def held_out(seed=11):
    return jnp.asarray(MEAN) + jax.random.normal(jax.random.key(seed), (N, 2)) @ jnp.linalg.cholesky(jnp.asarray(COV)).T


_PROGRAMS = {}


def oracle_nll(name, opts, x, *, exact, probes=1, rtol=1e-5, atol=1e-5, seed=0):
    """nll(p, oracle(p), G, x, ...) through one compiled program per (process, points' shape,
    exact, probes) for this module: a test that solves the same program as another one (with
    other tolerances, seeds or data) reuses it instead of compiling it again."""
    key = (name, tuple(sorted(opts.items())), tuple(x.shape), exact, 0 if exact else probes)  # exact: probes unused
    if key not in _PROGRAMS:
        p = get_process(name, **opts)
        _PROGRAMS[key] = make_nll(p, oracle(p), x.shape[0], x.shape[1:], exact=exact, probes=probes)
    return _PROGRAMS[key](G, x, seed, rtol, atol)


@pytest.mark.parametrize("case", DENSITY, ids=[c[0] for c in DENSITY])
def test_exact_divergence_matches_closed_form(case):
    _, name, opts = case
    p, x = get_process(name, **opts), held_out()
    r = oracle_nll(name, opts, x, exact=True)
    expect = np.asarray(model_nll(p, G, x), np.float64) / 2
    assert r.exact and r.probes == 2
    assert abs(r.nats_per_dim - expect.mean()) < 1e-3
    assert r.nfe == 6 * (r.accepted + r.rejected) + 1


def test_model_nll_is_the_data_nll():
    """For rf (prior = t1 marginal exactly) the pulled-back density is N(μ, Σ) itself, point by
    point; for the VP-SDE (α(1) ≈ 0.0066) it is N(α μ, α²Σ + σ²I) at t0 on average within 1e-3
    nats per dimension (per point it moves by the prior's small mismatch)."""
    p, x = get_process("rf"), held_out()
    np.testing.assert_allclose(model_nll(p, G, x), -log_prob(G, x), rtol=1e-4, atol=1e-4)
    p = get_process("vpsde")
    m, C = marginal(p, G, p.t0)
    data_nll = -log_prob(G, x, mean=m, evals=jnp.linalg.eigvalsh(C))
    assert abs(float(jnp.mean(model_nll(p, G, x) - data_nll))) / 2 < 1e-3


def test_hutchinson_is_unbiased():
    """Hutchinson's estimate, per point, differs from the closed form by probe noise alone: the
    mean difference is within 4 standard errors of 0, and the reported mean within 4 of its
    reported standard errors of the closed-form mean."""
    p, x = get_process("vpsde"), held_out()
    r = oracle_nll("vpsde", {}, x, exact=False, probes=4, seed=3)
    expect = np.asarray(model_nll(p, G, x), np.float64) / 2
    d = r.per_point - expect
    assert not r.exact and r.probes == 4
    assert abs(d.mean()) < 4 * d.std(ddof=1) / math.sqrt(N)
    assert abs(r.nats_per_dim - expect.mean()) < 4 * r.stderr
    assert d.std() > 1e-4  # it is an estimate (not the exact trace in disguise)


def test_counted_evaluations():
    """NFE is the number of evaluations of the augmented field (one network pass each)."""
    calls = []
    p = get_process("rf")

    def apply_fn(g):
        net = oracle(p)(g)

        def counted(t, x):
            jax.debug.callback(lambda: calls.append(1))
            return net(t, x)

        return counted

    r = nll(p, apply_fn, G, held_out()[:50], rtol=1e-4, atol=1e-4)
    jax.effects_barrier()
    assert r.nfe == len(calls)


def test_points_of_any_shape():
    """Points of shape (2, 1, 1) are the same Gaussian as (2,): the same NLL, exact or Hutchinson.
    (The flat programs are those of the vpsde closed-form and Hutchinson tests above.)"""
    x = held_out()
    for exact in (True, False):
        flat = oracle_nll("vpsde", {}, x, exact=exact, probes=4, rtol=1e-4, atol=1e-4)
        shaped = oracle_nll("vpsde", {}, x.reshape(N, 2, 1, 1), exact=exact, probes=4, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(shaped.per_point, flat.per_point, rtol=1e-5, atol=1e-5)


def test_refused_without_a_smooth_prior():
    for _, name, opts in process_cases():
        p = get_process(name, **opts)
        if "density" in p.capabilities:
            continue
        with pytest.raises(DiffcliError, match="no exact likelihood"):
            make_nll(p, oracle, 10, 2)


def test_likelihood_of_a_trained_run(tiny_run):
    """The library entry point behind a `likelihood` command: held-out data of the run's data set,
    its result written into the run."""
    import json

    from diffcli.likelihood import likelihood_run

    run_dir, r, path = likelihood_run(tiny_run.run_dir, n=64, seed=1, rtol=1e-3, atol=1e-3)
    saved = json.loads(path.read_text())
    assert path.parent == run_dir / "likelihood" and saved["nats_per_dim"] == r.nats_per_dim
    assert np.isfinite(r.nats_per_dim) and r.stderr > 0 and r.nfe == saved["nfe"] > 1
