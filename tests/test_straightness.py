"""Straightness (diffcli/straightness.py) against closed forms on Gaussian data with rectified flow.

With a Gaussian source and data N(μ, σ² I) the flow keeps z fixed along x(t) = (1 − t)·μ + s(t)·z,
s(t)² = t² + (1 − t)² σ², so the chord is x(1) − x(0) = (1 − σ)·z − μ and the gap to the field is
(s'(t) − (1 − σ))·z: S = d·∫ (s' − 1 + σ)² dt, exactly 0 for σ = 0 (every path straight) and
small for small σ."""

import jax
import numpy as np
import pytest

from diffcli.processes import get_process
from diffcli.processes.oracle import gaussian, oracle
from diffcli.straightness import straightness

MU = np.array([0.5, -0.25])


def closed_form(sigma: float, d: int = 2) -> float:
    t = np.linspace(0.0, 1.0, 200001)
    s = np.sqrt(t**2 + (1 - t) ** 2 * sigma**2)
    ds = (t - (1 - t) * sigma**2) / s
    gap = d * (ds - 1 + sigma) ** 2
    return float(np.sum((gap[1:] + gap[:-1]) / 2) * (t[1] - t[0]))


@pytest.mark.parametrize("sigma", [0.05, 0.5, 1.0])
def test_straightness_of_the_gaussian_flow(sigma):
    p = get_process("rf", source="gaussian")
    g = gaussian(MU, np.eye(2) * sigma**2)
    x1 = p.prior_sample(jax.random.key(0), (4000, 2))
    r = straightness(p, oracle(p)(g), x1)
    want = closed_form(sigma)
    assert r.straightness == pytest.approx(want, rel=0.05, abs=1e-4)  # E over 4000 draws of ‖z‖² ≈ d
    chord = np.mean(np.sum(((1 - sigma) * np.asarray(x1) - MU) ** 2, axis=1))
    assert r.chord == pytest.approx(chord, rel=1e-3)
    assert r.relative == pytest.approx(r.straightness / r.chord)
