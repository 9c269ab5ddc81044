"""The adaptive error norm: 'max' holds every sample of the batch to the tolerance, 'rms' only
the batch on average (one stiff sample among many easy ones is then integrated badly)."""

from __future__ import annotations

from dataclasses import replace

import jax.numpy as jnp
import numpy as np
import pytest

from diffcli.errors import DiffcliError
from diffcli.processes import get_process
from diffcli.sampling.driver import make_sampler
from diffcli.sampling.plan import make_plan

N = 64


def apply_fn(rates):
    # dx/dt = rate_i · x per sample: exact x(0) = x(1)·exp(−rate_i); sample 0 is 40× faster.
    return lambda t, x: rates[:, None] * x


@pytest.fixture(scope="module")
def results():
    proc = get_process("rf")
    rates = jnp.ones(N).at[0].set(40.0)
    out = {}
    for norm in ("rms", "max"):
        plan = replace(make_plan("tsit5", rtol=1e-3, atol=1e-3), norm=norm)
        res = make_sampler(proc, apply_fn, plan, N, (2,))(rates, 0)
        x1 = np.asarray(proc.prior_sample(__import__("jax").random.key(0), (N, 2)))
        exact = x1 * np.exp(-np.asarray(rates))[:, None]
        out[norm] = (res, np.abs(res.samples - exact).max(axis=1))
    return out


def test_max_norm_meets_the_tolerance_for_the_worst_sample(results):
    res, err = results["max"]
    assert err[0] < 1e-2, err[0]  # the stiff sample too (local tolerance 1e-3, a few steps' worth)


def test_rms_norm_lets_the_stiff_sample_drift_and_costs_fewer_steps(results):
    (r_rms, e_rms), (r_max, e_max) = results["rms"], results["max"]
    assert e_rms[0] > 3 * e_max[0]
    assert r_rms.nfe < r_max.nfe


def test_unknown_norm_is_an_error():
    with pytest.raises(DiffcliError, match="unknown norm 'l1'; accepted: max, rms"):
        make_plan("tsit5", rtol=1e-3, norm="l1")
