"""Data far from unit scale: standardisation, a kernel bandwidth that follows the data, and a real
held-out split of a user's file."""

from __future__ import annotations

import jax
import numpy as np

from diffcli.data import get_dataset
from diffcli.scoring import bandwidth, data_floor, score


def clusters(scale: float, n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = np.where(rng.uniform(size=(n, 1)) < 0.5, -1.0, 1.0) * scale
    return np.concatenate([c, np.zeros((n, 1))], 1) + rng.normal(size=(n, 2)) * 0.1 * scale


def test_mmd_follows_the_data_and_separates_what_cd_separates(tmp_path):
    """Two clusters at ±5000: samples from one cluster only are far above the floor in MMD² too,
    not 'near the floor' as a fixed σ = 0.5 made them."""
    np.save(tmp_path / "far.npy", clusters(5000.0))
    ds = get_dataset(str(tmp_path / "far.npy"))
    assert 100 < bandwidth(ds) < 20000
    one_cluster = np.asarray(ds.sample(jax.random.key(1), 400))
    one_cluster = one_cluster[one_cluster[:, 0] > 0]
    floor = data_floor(ds, len(one_cluster), 3, ["cd", "mmd2"])
    s = score(ds, one_cluster, 0, ["cd", "mmd2"])
    assert s["mmd2"] > 20 * floor.mean["mmd2"] and s["cd"] > 20 * floor.mean["cd"]


def test_the_cat_keeps_its_bandwidth():
    assert bandwidth(get_dataset("cat")) == 0.5


def test_standardize_and_the_held_out_split(tmp_path):
    np.save(tmp_path / "far.npy", clusters(5000.0, n=1000))
    ds = get_dataset(str(tmp_path / "far.npy"), standardize=True)
    x = np.asarray(ds.sample(jax.random.key(0), 5000))
    assert np.all(np.abs(x.mean(0)) < 0.1) and np.all(np.abs(x.std(0) - 1) < 0.1)
    held = {tuple(r) for r in np.asarray(ds.held_out_sample(jax.random.key(1), 2000))}
    train = {tuple(r) for r in x}
    assert len(held) == 100 and not held & train  # a tenth of the rows, never trained on
