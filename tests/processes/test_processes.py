"""Each process's own math against closed forms on Gaussian data N(μ, Σ).

Monte-Carlo checks whiten the sample by the exact target (y = D^{-1/2} Uᵀ (x − m)), so
y is N(0, I) under the claim: each mean is within 4/√n of 0, each variance within 4·√(2/n)
of 1 and the correlation within 4/√n of 0 (the standard errors of those estimators).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import process_cases
from diffcli.errors import DiffcliError
from diffcli.processes import PROCESSES, get_process
from diffcli.processes.base import field
from diffcli.processes.oracle import gaussian, kl_to_prior, marginal, oracle, posterior_x0_eps

MEAN, COV = [0.5, -0.25], [[1.0, 0.5], [0.5, 0.75]]
G = gaussian(MEAN, COV)
GAUSSIAN_PATHS = process_cases("score")  # (id, name, options): closed-form oracles exist
SDES = process_cases("sde")
PATH_IDS, SDE_IDS = [c[0] for c in GAUSSIAN_PATHS], [c[0] for c in SDES]


def assert_whitened_normal(x, m, C):
    """x (n, d) has mean m and covariance C within Monte-Carlo error (4 standard errors)."""
    x, m, C = (np.asarray(a, np.float64) for a in (x, m, C))
    n = x.shape[0]
    evals, evecs = np.linalg.eigh(C)
    y = (x - m) @ evecs / np.sqrt(evals)
    cov = np.cov(y.T)
    assert np.all(np.abs(y.mean(0)) < 4 / math.sqrt(n)), f"mean off by {y.mean(0)} sd"
    assert np.all(np.abs(np.diag(cov) - 1) < 4 * math.sqrt(2 / n)), f"variance ratios {np.diag(cov)}"
    off = cov[np.triu_indices_from(cov, 1)]
    assert np.all(np.abs(off) < 4 / math.sqrt(n)), f"correlations {off}"


def data(n, seed):
    return jnp.asarray(MEAN) + jax.random.normal(jax.random.key(seed), (n, 2)) @ jnp.linalg.cholesky(jnp.asarray(COV)).T


@pytest.mark.parametrize("case", GAUSSIAN_PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("t", [0.3, 0.8])
def test_forward_sample_matches_marginal(case, t):
    """The training interpolant draws x_t from N(α μ, α²Σ + σ²I) given by coeffs(t)."""
    _, name, opts = case
    p = get_process(name, **opts)
    n = 20000
    t = jnp.float32(min(max(t, p.t0), p.t1))
    x_t = p.forward_sample(jax.random.key(1), jnp.full((n,), t), data(n, 0))
    assert_whitened_normal(x_t, *marginal(p, G, t))


# The cat's own scale (shared/reference/cat.md): mean 0, covariance of the curve plus its noise.
CAT = gaussian([0.0, 0.0], [[1.7047, 0.3734], [0.3734, 1.5872]])


@pytest.mark.parametrize("case", GAUSSIAN_PATHS, ids=PATH_IDS)
def test_marginal_at_t1_matches_prior(case):
    """KL(p_1 ‖ prior) below 1e-3 nats per dimension (the likelihood's own tolerance) for data
    of the cat's scale, with each process's default schedule; exactly 0 for the interpolants."""
    _, name, opts = case
    p = get_process(name, **opts)
    prior_std = float(jnp.exp(-(p.prior_log_prob(jnp.zeros((1, 1)))[0] + 0.5 * math.log(2 * math.pi))))
    assert kl_to_prior(p, CAT, prior_std) < 1e-3


UNIFORM = [c for c in process_cases() if c[2].get("source") == "uniform-square"]


@pytest.mark.parametrize("case", UNIFORM, ids=[c[0] for c in UNIFORM])
def test_uniform_source_is_the_marginal_at_t1(case):
    _, name, opts = case
    p = get_process(name, **opts)
    n = 20000
    x1 = np.asarray(p.forward_sample(jax.random.key(2), jnp.ones(n), data(n, 1)))
    assert ((x1 >= 2) & (x1 <= 3)).all()
    sd_mean, sd_var = math.sqrt(1 / 12 / n), math.sqrt((1 / 80 - 1 / 144) / n)  # uniform on [2, 3]
    assert np.all(np.abs(x1.mean(0) - 2.5) < 4 * sd_mean)
    assert np.all(np.abs(x1.var(0) - 1 / 12) < 4 * sd_var)


@pytest.mark.parametrize("name", PROCESSES.names())
def test_prior_sample_and_log_prob_agree(name):
    """The prior's samples have the moments its log-density states (a Gaussian N(0, s²I) here)."""
    p = get_process(name)
    x = np.asarray(p.prior_sample(jax.random.key(3), (20000, 2)), np.float64)
    s2 = float(jnp.exp(-2 * (p.prior_log_prob(jnp.zeros((1, 1)))[0] + 0.5 * math.log(2 * math.pi))))
    assert_whitened_normal(x, np.zeros(2), s2 * np.eye(2))
    z = jnp.asarray([[0.3, -1.2]])
    expect = -0.5 * float(jnp.sum(z**2)) / s2 - math.log(2 * math.pi * s2)
    assert float(p.prior_log_prob(z)[0]) == pytest.approx(expect, rel=1e-5)


@pytest.mark.parametrize("case", SDES, ids=SDE_IDS)
def test_forward_sde_has_the_paths_marginals(case):
    """Euler–Maruyama on the forward SDE dx = f(t, x) dt + g(t) dW, started from the exact
    marginal at t_a, lands on the path's marginal at t_b: the f and g derived from (α, σ) carry
    the marginals along (1000 steps: the scheme's O(dt) bias is far inside the Monte-Carlo band)."""
    _, name, opts = case
    p = get_process(name, **opts)
    ta, tb = (p.t0 + (p.t1 - p.t0) * u for u in (0.1, 0.6))
    n, steps = 20000, 1000
    m, C = marginal(p, G, ta)
    dt = (tb - ta) / steps

    @jax.jit
    def simulate(key):
        k0, kw = jax.random.split(key)
        x = m + jax.random.normal(k0, (n, 2)) @ jnp.linalg.cholesky(C).T

        def em(x, i):
            t = ta + i * dt
            z = jax.random.normal(jax.random.fold_in(kw, i), x.shape)
            return x + p.drift(t, x) * dt + p.diffusion(t) * jnp.sqrt(dt) * z, None

        return jax.lax.scan(em, x, jnp.arange(steps))[0]

    assert_whitened_normal(simulate(jax.random.key(4)), *marginal(p, G, tb))


@pytest.mark.parametrize("case", SDES, ids=SDE_IDS)
def test_probability_flow_is_the_velocity(case):
    """f − ½g²·score (the SDE's probability-flow ODE) equals α'·x̂0 + σ'·ε̂ (the path's velocity)."""
    _, name, opts = case
    p = get_process(name, **opts)
    net = oracle(p)(G)
    x = jax.random.normal(jax.random.key(5), (7, 2))
    for u in (0.0137, 0.3005, 0.9003):
        t = jnp.float32(p.t0 + u * (p.t1 - p.t0))
        np.testing.assert_allclose(p.ode_drift(net)(t, x), field(p, net, "velocity")(t, x), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("case", GAUSSIAN_PATHS, ids=PATH_IDS)
def test_oracle_is_the_gaussian_posterior(case):
    """The oracle's x̂0, ε̂ obey x = α·x̂0 + σ·ε̂, and its score is −C_t⁻¹(x − α μ) (full inverse)."""
    _, name, opts = case
    p = get_process(name, **opts)
    x = jax.random.normal(jax.random.key(6), (9, 2))
    for t in (0.2, 0.7):
        t = jnp.float32(t)
        x0, eps = posterior_x0_eps(p, G, t, x)
        c = p.coeffs(t)
        np.testing.assert_allclose(c.alpha * x0 + c.sigma * eps, x, rtol=1e-5, atol=1e-5)
        m, C = marginal(p, G, t)
        score = -np.linalg.solve(np.asarray(C, np.float64), (np.asarray(x) - np.asarray(m)).T).T
        np.testing.assert_allclose(field(p, oracle(p)(G), "score")(t, x), score, rtol=2e-4, atol=2e-4)


# each other prediction the diffusions can be trained with, on one of them (in turn)
PREDICTION_VARIANTS = [(f"{n}-{k}", n, {**o, "prediction": k}) for k, (_, n, o) in zip(("score", "x0", "velocity"), SDES)]


@pytest.mark.parametrize("case", GAUSSIAN_PATHS + PREDICTION_VARIANTS, ids=PATH_IDS + [c[0] for c in PREDICTION_VARIANTS])
def test_oracle_is_a_stationary_point_of_the_loss(case):
    """The ideal network minimises each process's training loss, so the loss's derivative along
    any direction h vanishes: (L(δ) − L(−δ))/(2δ) = E[2w(out − target)·h] = 0 within 4 standard
    errors over 64 independent batches (common random numbers for ±δ)."""
    _, name, opts = case
    p = get_process(name, **opts)
    net, delta = oracle(p)(G), 1e-2

    def dloss(key):
        kd, kl = jax.random.split(key)
        xd = jnp.asarray(MEAN) + jax.random.normal(kd, (512, 2)) @ jnp.linalg.cholesky(jnp.asarray(COV)).T
        lp = p.loss(lambda t_, x_: net(t_, x_) + delta, kl, xd)
        lm = p.loss(lambda t_, x_: net(t_, x_) - delta, kl, xd)
        return (lp - lm) / (2 * delta)

    d = np.asarray(jax.jit(jax.vmap(dloss))(jax.random.split(jax.random.key(7), 64)), np.float64)
    assert abs(d.mean()) < 4 * d.std(ddof=1) / math.sqrt(d.size), (d.mean(), d.std())


def test_bad_options_are_one_line_errors():
    for name, opts, words in [
        ("rf", {"prediction": "eps"}, "takes no option model.prediction; it accepts: model.source"),
        ("rf", {"sigma_max": -5.0}, "model 'rf' takes no option model.sigma_max"),
        ("bridge", {"prediction": "velocity"}, "model.prediction"), ("vpsde", {"prediction": "v"}, "prediction 'v'"),
        ("vpsde", {"beta_min": 30.0}, "beta_min"), ("vesde", {"sigma_min": 0.0}, "sigma_min"),
        ("ddpm", {"timesteps": 1}, "timesteps"), ("bridge", {"source": "laplace"}, "unknown source 'laplace'"),
        ("vesde", {"sigma_max": "big"}, "model.sigma_max must be float"),
    ]:
        with pytest.raises(DiffcliError) as e:
            get_process(name, **opts)
        assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", PROCESSES.names())
def test_every_process_refuses_an_option_it_does_not_take(name):
    accepted = ", ".join(f"model.{k}" for k in PROCESSES.options(name)) or "none"
    with pytest.raises(DiffcliError, match=f"takes no option model.bogus; it accepts: {accepted}$"):
        get_process(name, bogus=1.0)


def test_uniform_bridge_refuses_the_ode():
    p = get_process("bridge", source="uniform-square")
    assert p.capabilities == {"bridge"}
    with pytest.raises(DiffcliError, match="posterior steps"):
        p.ode_drift(lambda x, t: x)


def test_ddpm_schedule():
    """β_i linear from 1e-4 to 0.02 over T = 1000, ᾱ_i = Π(1 − β_j) exactly at t = i/T."""
    p = get_process("ddpm")
    assert p.betas[0] == pytest.approx(1e-4) and p.betas[-1] == pytest.approx(0.02) and len(p.betas) == 1000
    ab = np.cumprod(1 - p.betas)
    for i in (1, 10, 500, 1000):
        c = p.coeffs(jnp.float32(i / 1000))
        assert float(c.alpha) ** 2 == pytest.approx(ab[i - 1], rel=1e-4)
        assert float(c.sigma) ** 2 == pytest.approx(1 - ab[i - 1], rel=1e-4)
    t = np.asarray(p.sample_t(jax.random.key(0), 4096)) * 1000
    assert np.allclose(t, np.round(t), atol=1e-3) and t.min() >= 1 and t.max() <= 1000
