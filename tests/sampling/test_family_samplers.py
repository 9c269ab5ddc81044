"""Every sampler, with the closed-form Gaussian network in place of a trained one, reproduces
the data: output mean and covariance match the exact marginal at the sampler's end (t0, or
t = 0 for the samplers that land on the data) within Monte-Carlo error, and the reported NFE
equals the network calls counted while it ran.

Each run starts from the exact t1 marginal of the Gaussian data instead of the process's prior,
so the check isolates the sampler (how far each prior is from that marginal is
tests/processes/test_processes.py::test_marginal_at_t1_matches_prior). Step counts are where
each method's own discretisation bias is well inside the Monte-Carlo band (DDIM and ancestral
sampling shrink the variance by O(1/steps), a Langevin corrector inflates it by O(snr²)).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffcli.processes import get_process
from diffcli.processes.oracle import gaussian, marginal, oracle
from diffcli.sampling.plan import make_plan
from diffcli.sampling.samplers import SAMPLERS, make_sampler

MEAN, COV = [0.5, -0.25], [[1.0, 0.5], [0.5, 0.75]]
N = 20000
TOL = 1e-5

# (id, process, process options, solver, make_plan keywords)
CASES = [
    ("tsit5-vpsde", "vpsde", {}, "tsit5", {"rtol": TOL, "atol": TOL}),
    ("tsit5-vesde", "vesde", {}, "tsit5", {"rtol": TOL, "atol": TOL}),
    ("tsit5-ddpm", "ddpm", {}, "tsit5", {"rtol": TOL, "atol": TOL}),
    ("tsit5-rf", "rf", {}, "tsit5", {"rtol": TOL, "atol": TOL}),
    ("dopri5-bridge", "bridge", {"source": "gaussian"}, "dopri5", {"rtol": TOL, "atol": TOL}),
    ("heun-vesde-score", "vesde", {"prediction": "score"}, "heun", {"steps": 100}),
    ("euler-vpsde-x0", "vpsde", {"prediction": "x0"}, "euler", {"steps": 1000}),
    ("em-vpsde", "vpsde", {}, "euler-maruyama", {"steps": 500}),
    ("em-vesde", "vesde", {}, "euler-maruyama", {"steps": 500}),
    ("em-ddpm", "ddpm", {}, "euler-maruyama", {"steps": 500}),
    ("eulerheun-vpsde", "vpsde", {}, "euler-heun", {"steps": 500}),
    ("pc-vpsde", "vpsde", {}, "pc", {"steps": 300, "snr": 0.05}),
    ("pc2-vesde", "vesde", {}, "pc", {"steps": 300, "snr": 0.05, "corrector_steps": 2}),
    ("ddim-vpsde", "vpsde", {}, "ddim", {"steps": 1000}),
    ("ddim-ddpm-eta", "ddpm", {}, "ddim", {"steps": 1000, "eta": 0.5}),
    ("ddim-vesde-eta1", "vesde", {}, "ddim", {"steps": 1000, "eta": 1.0}),
    ("ancestral-ddpm", "ddpm", {}, "ancestral", {}),
    ("bridge-bridge", "bridge", {"source": "gaussian"}, "bridge", {}),
]


class ExactStart:
    """The process, drawing its start from the exact t1 marginal of the Gaussian data."""

    def __init__(self, process, g):
        self._p, self._g = process, g

    def __getattr__(self, name):
        return getattr(self._p, name)

    def prior_sample(self, key, shape):
        m, C = marginal(self._p, self._g, self._p.t1)
        return m + jax.random.normal(key, shape) @ jnp.linalg.cholesky(C).T


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1


def counting(apply_fn, counter):
    """apply_fn whose network reports every call it makes to counter (one per network evaluation)."""

    def fn(params):
        net = apply_fn(params)

        def counted(x, t):
            jax.debug.callback(counter)
            return net(x, t)

        return counted

    return fn


def test_every_sampler_is_covered():
    assert {c[3] for c in CASES} == set(SAMPLERS.names())


@pytest.fixture(scope="module")
def runs():
    """Each case run once on demand: (process, plan, SampleResult, counted network calls)."""
    cache = {}
    g = gaussian(MEAN, COV)

    def get(case):
        if case[0] not in cache:
            _, name, opts, solver, kw = case
            p = get_process(name, **opts)
            plan = make_plan(solver, process=p, **kw)
            counter = Counter()
            sampler = make_sampler(ExactStart(p, g), counting(oracle(p), counter), plan, N, 2)
            result = sampler(g, 0)
            jax.effects_barrier()  # every debug callback has run
            cache[case[0]] = (p, plan, result, counter.calls)
        return cache[case[0]]

    return get


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_the_data(case, runs):
    p, plan, r, _ = runs(case)
    end = 0.0 if SAMPLERS.get(plan.solver).ends_at_data else p.t0
    m, C = (np.asarray(a, np.float64) for a in marginal(p, gaussian(MEAN, COV), end))
    evals, evecs = np.linalg.eigh(C)
    y = (np.asarray(r.samples, np.float64) - m) @ evecs / np.sqrt(evals)  # N(0, I) if exact
    cov = np.cov(y.T)
    assert np.all(np.abs(y.mean(0)) < 4 / math.sqrt(N)), f"{plan.label()}: mean off by {y.mean(0)} sd"
    assert np.all(np.abs(np.diag(cov) - 1) < 4 * math.sqrt(2 / N)), f"{plan.label()}: variance ratios {np.diag(cov)}"
    assert abs(cov[0, 1]) < 4 / math.sqrt(N), f"{plan.label()}: correlation {cov[0, 1]}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_nfe_is_exact(case, runs):
    _, plan, r, calls = runs(case)
    assert r.nfe == calls, f"{plan.label()}: reported {r.nfe}, counted {calls}"


def test_euler_heun_equals_euler_maruyama_for_additive_noise(runs):
    """g depends on t alone, so Euler–Heun's Stratonovich correction vanishes: same paths, same noise."""
    em, eh = runs(CASES[[c[0] for c in CASES].index("em-vpsde")])[2], runs(CASES[[c[0] for c in CASES].index("eulerheun-vpsde")])[2]
    np.testing.assert_allclose(eh.samples, em.samples, rtol=1e-5, atol=1e-5)


def test_seeds_give_independent_paths():
    """Different seeds draw different noise; one seed reproduces itself exactly; trajectories
    run from t1 to the end with the samples as their last point."""
    p, g = get_process("vpsde"), gaussian(MEAN, COV)
    s = make_sampler(p, oracle(p), make_plan("euler-maruyama", steps=20), 64, 2, trajectories=3)
    a, b, a2 = s(g, 0), s(g, 1), s(g, 0)
    np.testing.assert_array_equal(a.samples, a2.samples)
    assert not np.allclose(a.samples, b.samples)
    assert a.trajectories.shape == (3, 21, 2) and a.traj_times.shape == (21,)
    np.testing.assert_allclose(a.trajectories[:, -1], a.samples[:3])
    assert len(np.unique(a.samples[:, 0])) == 64  # every path its own noise


@pytest.mark.parametrize("model,solver", [("vesde", "pc"), ("ddpm", "ddim"), ("bridge", "bridge")])
def test_trajectories(model, solver):
    """k trajectories of steps + 1 states from t1 to the sampler's end, the last one the sample."""
    p, g = get_process(model), gaussian(MEAN, COV)
    r = make_sampler(p, oracle(p), make_plan(solver, steps=5), 16, 2, trajectories=2)(g, 0)
    assert r.trajectories.shape == (2, 6, 2) and r.traj_times.shape == (6,)
    assert r.traj_times[0] == pytest.approx(p.t1)
    assert r.traj_times[-1] == pytest.approx(0.0 if SAMPLERS.get(solver).ends_at_data else p.t0)
    np.testing.assert_allclose(r.trajectories[:, -1], r.samples[:2])
