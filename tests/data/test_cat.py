"""The parametric cat against its definition (shared/reference/cat.md), evaluated in float64.

The coefficients below are typed in from the reference document, independently of the
package, so a transcription error in diffcli/data/cat.py is caught.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import numpy as np
import pytest

from diffcli.data import get_dataset
from diffcli.data.cat import COEFFS, curve_np

SPEC_A = "-721/4, 196/3, -86/3, -131/2, 477/14, 27, -29/2, 68/5, 1/10, 23/4, 0, -19/2, -85/21, 2/3, 27/5, 7/4, 17/9, -4, -1/2, 1/6, 6/7, -1/8, 1/3, 3/2, 13/5, 1, -2, 3/5, -1/5, 1/5"
SPEC_B = "2337/8, -43/5, 322/5, -117/5, -26/5, -23/3, 143/4, -11/4, -31/3, -13/4, -9/2, 41/20, 8, 2/3, 6, 17/4, -3/2, -29/10, 11/6, 12/5, 3/2, 11/12, -4/5, 1, 17/8, -7/2, -5/6, -11/10, 1/2, -1/5"
SPEC_C = "-637/2, -188/5, -11/7, -12/5, 11/3, -37/4, 8/3, 65/6, -32/5, -41/4, -38/3, -47/8, 5/4, -41/7, -7/3, -13/7, 17/4, -9/4, 8/9, 3/5, -2/5, 4/3, 1/3, 3/5, -3/5, 6/5, -1/5, 10/9, 1/3, -3/4"
SPEC_D = "-125/2, -521/9, -359/3, 47/3, -33/2, -5/4, 31/8, 9/10, -119/4, -17/2, 22/3, 15/4, -5/2, 19/6, 7/4, 31/4, -1, 11/10, -2/3, 13/3, -5/4, 2/3, 1/4, 5/6, 0, 3/4, -1/2, -1/10, -1/3, -1/19"


def _fracs(text: str) -> list[Fraction]:
    return [Fraction(v.strip()) for v in text.split(",")]


A, B, C, D = (_fracs(t) for t in (SPEC_A, SPEC_B, SPEC_C, SPEC_D))
K = np.arange(1, 31, dtype=np.float64)
AF, BF, CF, DF = (np.array([float(v) for v in c]) for c in (A, B, C, D))


def spec_curve(s: np.ndarray) -> np.ndarray:
    """(x(s), y(s)) / 200 straight from the definition, float64, shape (n, 2)."""
    s = np.asarray(s, dtype=np.float64)[:, None]
    sin, cos = np.sin(K * s), np.cos(K * s)
    return np.stack([(AF * sin + BF * cos).sum(1), (CF * sin + DF * cos).sum(1)], -1) / 200.0


def spec_curve_d(s: np.ndarray, order: int) -> np.ndarray:
    """First (order=1) or second (order=2) derivative of spec_curve in s."""
    s = np.asarray(s, dtype=np.float64)[:, None]
    sin, cos = np.sin(K * s), np.cos(K * s)
    if order == 1:
        dx = (K * (AF * cos - BF * sin)).sum(1)
        dy = (K * (CF * cos - DF * sin)).sum(1)
    else:
        dx = (-(K**2) * (AF * sin + BF * cos)).sum(1)
        dy = (-(K**2) * (CF * sin + DF * cos)).sum(1)
    return np.stack([dx, dy], -1) / 200.0


def test_coefficients_match_the_reference_exactly():
    for row, spec in zip(COEFFS, (A, B, C, D)):
        assert len(row) == 30
        np.testing.assert_array_equal(row, np.array([float(v) for v in spec], dtype=np.float64))
    assert COEFFS.dtype == np.float64


def test_curve_at_zero_is_the_cosine_sums_over_200():
    xy = curve_np(np.array([0.0]))
    assert xy.shape == (1, 2) and xy.dtype == np.float64
    want = (float(sum(B) / 200), float(sum(D) / 200))  # exact rational sums, rounded once
    assert xy[0, 0] == pytest.approx(want[0], rel=1e-14, abs=1e-15)
    assert xy[0, 1] == pytest.approx(want[1], rel=1e-14, abs=1e-15)


def test_curve_at_half_pi_and_pi_from_exact_sums():
    # s = π: sin(kπ) = 0, cos(kπ) = (−1)^k.   s = π/2: sin(kπ/2) cycles 1, 0, −1, 0; cos 0, −1, 0, 1.
    sign = [(-1) ** k for k in range(1, 31)]
    at_pi = (sum(b * s for b, s in zip(B, sign)) / 200, sum(d * s for d, s in zip(D, sign)) / 200)
    sin_h = [(0, 1, 0, -1)[k % 4] for k in range(1, 31)]
    cos_h = [(1, 0, -1, 0)[k % 4] for k in range(1, 31)]
    at_half = (
        sum(a * si + b * co for a, b, si, co in zip(A, B, sin_h, cos_h)) / 200,
        sum(c * si + d * co for c, d, si, co in zip(C, D, sin_h, cos_h)) / 200,
    )
    got = curve_np(np.array([math.pi, math.pi / 2]))
    np.testing.assert_allclose(got[0], [float(v) for v in at_pi], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], [float(v) for v in at_half], rtol=1e-12, atol=1e-12)


def test_curve_matches_the_definition_everywhere():
    s = np.random.default_rng(0).uniform(0, 2 * np.pi, 500)
    np.testing.assert_allclose(curve_np(s), spec_curve(s), rtol=0, atol=1e-13)


def test_curve_is_2pi_periodic_and_in_the_documented_box():
    s = np.linspace(0, 2 * np.pi, 20001)
    xy = curve_np(s)
    np.testing.assert_allclose(xy[0], xy[-1], atol=1e-12)
    # cat.md: x ∈ [−2.4, 1.9], y ∈ [−1.8, 2.3] (noise included; the curve sits inside)
    assert xy[:, 0].min() > -2.4 and xy[:, 0].max() < 1.9
    assert xy[:, 1].min() > -1.8 and xy[:, 1].max() < 2.3
    # no constant term: the mean over a period is 0 (to the accuracy of the grid quadrature)
    np.testing.assert_allclose(xy[:-1].mean(0), 0.0, atol=1e-12)


# ------------------------------------------------------------------ projection onto the curve

_GRID_N = 8192
_GRID_S = np.linspace(0, 2 * np.pi, _GRID_N, endpoint=False)
_GRID_XY = spec_curve(_GRID_S)


def project(points: np.ndarray, candidates: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(distance to the curve, parameter of the nearest curve point) for each point, float64.

    Brute force against a dense grid, then Newton on (c(s) − p)·c'(s) = 0 from the best few
    grid points (different branches of the curve may pass close to each other).
    """
    p = np.asarray(points, dtype=np.float64)
    idx = np.empty((len(p), candidates), dtype=np.int64)
    for i in range(0, len(p), 256):
        d2 = ((p[i : i + 256, None, :] - _GRID_XY[None]) ** 2).sum(-1)
        idx[i : i + 256] = np.argpartition(d2, candidates, axis=1)[:, :candidates]
    best_d = np.full(len(p), np.inf)
    best_s = np.zeros(len(p))
    for j in range(candidates):
        s = _GRID_S[idx[:, j]].copy()
        for _ in range(8):
            r = spec_curve(s) - p
            d1, d2 = spec_curve_d(s, 1), spec_curve_d(s, 2)
            g = (r * d1).sum(1)
            h = (d1 * d1).sum(1) + (r * d2).sum(1)
            step = np.where(h > 0, g / np.where(h > 0, h, 1.0), 0.0)
            s = s - np.clip(step, -2 * np.pi / _GRID_N, 2 * np.pi / _GRID_N)
        d = np.linalg.norm(spec_curve(s) - p, axis=1)
        better = d < best_d
        best_d[better], best_s[better] = d[better], s[better]
    return best_d, np.mod(best_s, 2 * np.pi)


def draw(n: int, key: int, **kw) -> np.ndarray:
    return np.asarray(get_dataset("cat", **kw).sample(jax.random.key(key), n))


@pytest.fixture(scope="module")
def clean_cat():
    return draw(2000, 7, noise=0.0)


def test_noiseless_samples_lie_on_the_curve(clean_cat):
    assert clean_cat.shape == (2000, 2) and clean_cat.dtype == np.float32
    d, _ = project(clean_cat)
    # float32 rounding of a point of size ~2 is ~2e-7; anything off the curve shows up far above
    assert d.max() <= 1e-5, d.max()


def test_parameter_is_uniform_in_s(clean_cat):
    _, s = project(clean_cat)
    u = np.sort(s / (2 * np.pi))
    n = len(u)
    ks = np.max(np.maximum(np.arange(1, n + 1) / n - u, u - np.arange(n) / n))
    assert ks < 1.95 / math.sqrt(n), ks  # Kolmogorov–Smirnov at the 0.1 % level


def test_samples_cover_the_whole_curve(clean_cat):
    _, s = project(clean_cat)
    hist = np.histogram(s, bins=20, range=(0, 2 * np.pi))[0]
    assert hist.min() > 0


@pytest.mark.parametrize("noise", [0.05, 0.01])
def test_noise_has_the_requested_std(noise):
    x = draw(2000, 3, noise=noise)
    d, _ = project(x)
    # The distance to the curve is the normal component of N(0, σ² I): RMS ≈ σ (its sampling
    # error is ~1.6 % here; curvature pulls it down by a few % at σ = 0.05).
    ratio = math.sqrt(np.mean(d**2)) / noise
    assert 0.9 < ratio < 1.1, ratio


def test_default_noise_is_0_05():
    a = draw(256, 11)
    b = draw(256, 11, noise=0.05)
    np.testing.assert_array_equal(a, b)


def test_mean_and_covariance_of_the_noisy_cat():
    # Closed form for s ~ U[0, 2π): E c(s) = 0, E x² = Σ(a²+b²)/2/200², E xy = Σ(ac+bd)/2/200²;
    # the noise adds σ² I.
    sigma = 0.05
    x = draw(20000, 5, noise=sigma).astype(np.float64)
    cov = np.array([
        [np.sum(AF**2 + BF**2), np.sum(AF * CF + BF * DF)],
        [np.sum(AF * CF + BF * DF), np.sum(CF**2 + DF**2)],
    ]) / 2 / 200**2 + sigma**2 * np.eye(2)
    se = np.sqrt(np.diag(cov) / len(x))
    assert np.all(np.abs(x.mean(0)) < 5 * se)
    np.testing.assert_allclose(np.cov(x.T), cov, rtol=0.05)
