"""Every registered data set: shape, dtype, determinism, and its noiseless geometry."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from diffcli.data import DATASETS, get_dataset
from diffcli.errors import DiffcliError

N = 512
FILE_POINTS = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def points_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("points") / "points.npy"
    np.save(p, FILE_POINTS)
    return p


def make(name: str, points_file, **kw):
    if name == "file":
        return DATASETS.get("file")(path=str(points_file), **kw)
    return DATASETS.get(name)(**kw)


def sample(ds, key: int, n: int) -> np.ndarray:
    """Eager draws: JAX caches each primitive's compilation, which is cheaper here than
    compiling a whole program per data set instance."""
    return np.asarray(ds.sample(jax.random.key(key), n))


@pytest.fixture(scope="module", params=DATASETS.names())
def dataset(request, points_file):
    return make(request.param, points_file)


def test_the_documented_data_sets_are_registered():
    assert {"cat", "moons", "rings", "checkerboard", "file"} <= set(DATASETS.names())


def test_shape_and_dtype(dataset):
    x = sample(dataset, 0, N)
    assert x.shape == (N, *dataset.shape)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()


def test_deterministic_given_a_key(dataset):
    a = sample(dataset, 42, N)
    b = sample(dataset, 42, N)
    np.testing.assert_array_equal(a, b)


def test_different_keys_give_different_points(dataset):
    a = sample(dataset, 1, N)
    b = sample(dataset, 2, N)
    same_rows = np.all(a.reshape(N, -1) == b.reshape(N, -1), axis=1).mean()  # whole points (images too)
    limit = 0.2 if dataset.dim == 3 else 0.01  # the file set has only 50 distinct rows
    assert same_rows < limit


def test_jittable_and_equal_to_eager(dataset):
    key = jax.random.key(5)
    eager = np.asarray(dataset.sample(key, N))
    compiled = np.asarray(jax.jit(dataset.sample, static_argnums=1)(key, N))
    assert compiled.dtype == np.float32
    np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-6)


def test_unknown_name_is_a_one_line_error():
    with pytest.raises(DiffcliError) as e:
        get_dataset("catt")
    msg = str(e.value)
    assert "catt" in msg and "cat" in msg and "\n" not in msg


# ------------------------------------------------------------- noiseless geometry, closed form


def draw(name: str, n: int, key: int, **kw) -> np.ndarray:
    return sample(get_dataset(name, **kw), key, n).astype(np.float64)


def clean(name: str) -> np.ndarray:
    return draw(name, 2000, 3, noise=0.0)


def test_8gaussians_noiseless_are_the_8_centres():
    x = clean("8gaussians")
    centres = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], -1)
    d = np.linalg.norm(x[:, None] - centres[None], axis=-1)
    assert d.min(1).max() < 1e-6
    counts = np.bincount(d.argmin(1), minlength=8)
    assert counts.min() > 2000 / 8 * 0.6  # all 8 modes, roughly equal mass


def test_rings_noiseless_have_radius_1_and_2():
    r = np.linalg.norm(clean("rings"), axis=1)
    on1, on2 = np.abs(r - 1) < 1e-6, np.abs(r - 2) < 1e-6
    assert np.all(on1 | on2)
    assert 0.4 < on1.mean() < 0.6  # equal mass


def test_moons_noiseless_are_two_half_circles():
    x = clean("moons")
    outer = x + [0.5, 0.25]  # (cos θ, sin θ), θ ∈ [0, π]
    inner = x - [0.5, 0.25]  # (−cos θ, −sin θ)
    on_outer = (np.abs(np.linalg.norm(outer, axis=1) - 1) < 1e-6) & (outer[:, 1] >= -1e-6)
    on_inner = (np.abs(np.linalg.norm(inner, axis=1) - 1) < 1e-6) & (inner[:, 1] <= 1e-6)
    assert np.all(on_outer | on_inner)
    assert 0.4 < on_outer.mean() < 0.6


def test_swissroll_noiseless_is_the_spiral():
    x = clean("swissroll")
    t = 5 * np.linalg.norm(x, axis=1)
    assert t.min() >= 1.5 * np.pi - 1e-4 and t.max() <= 4.5 * np.pi + 1e-4
    phase = np.angle(np.exp(1j * (np.arctan2(x[:, 1], x[:, 0]) - t)))
    assert np.abs(phase).max() < 1e-4


def test_checkerboard_noiseless_is_on_the_8_black_cells():
    x = clean("checkerboard")
    assert x.min() >= -2 and x.max() <= 2
    cells = np.floor(x + 2).astype(int)
    assert np.all(cells.sum(1) % 2 == 0)  # one colour only
    occupied = {tuple(c) for c in cells}
    assert len(occupied) == 8


# --------------------------------------------------------------------------- default noise


@pytest.mark.parametrize("name, noise", [("moons", 0.05), ("rings", 0.05), ("checkerboard", 0.02), ("cat", 0.05)])
def test_default_noise_is_the_documented_one(name, noise):
    a = draw(name, 256, 9)
    b = draw(name, 256, 9, noise=noise)
    np.testing.assert_array_equal(a, b)


def test_rings_noise_std():
    sigma = 0.05
    x = draw("rings", 4000, 4, noise=sigma)
    r = np.linalg.norm(x, axis=1)
    resid = np.where(np.abs(r - 1) < np.abs(r - 2), r - 1, r - 2)
    # radial component of N(0, σ² I): RMS σ up to O(σ²/r) curvature terms; sampling error ~1 %
    assert 0.93 < math.sqrt(np.mean(resid**2)) / sigma < 1.07


# ------------------------------------------------------------------------ gaussian data set


@pytest.mark.skipif("gaussian" not in DATASETS, reason="no gaussian data set registered")
def test_gaussian_has_the_requested_mean_and_covariance():
    mean = [1.0, -2.0, 0.5]
    cov = [[2.0, 0.3, 0.0], [0.3, 1.0, -0.4], [0.0, -0.4, 0.5]]
    ds = get_dataset("gaussian", mean=mean, cov=cov)
    assert ds.dim == 3
    x = sample(ds, 0, 40000)
    assert x.shape == (40000, 3) and x.dtype == np.float32
    x = x.astype(np.float64)
    se = np.sqrt(np.diag(cov) / len(x))
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)


@pytest.mark.skipif("gaussian" not in DATASETS, reason="no gaussian data set registered")
@pytest.mark.parametrize("mean, cov", [
    ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]),  # not positive definite
    ([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]),  # not symmetric
    ([0.0, 0.0], [[1.0]]),  # wrong size
    ([], None),  # empty mean
])
def test_gaussian_bad_parameters(mean, cov):
    with pytest.raises(DiffcliError) as e:
        get_dataset("gaussian", mean=mean, cov=cov)
    assert "data." in str(e.value) and "\n" not in str(e.value)
