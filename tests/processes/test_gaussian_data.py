"""The `gaussian` data set behind the oracles: its draws have the configured mean and covariance,
and data.mean / data.cov come from TOML as lists."""

import math

import jax
import numpy as np
import pytest

from diffcli import config as C
from diffcli.data import get_dataset
from diffcli.errors import DiffcliError


def test_moments():
    mean, cov = [1.0, -2.0, 0.5], [[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]]
    d = get_dataset("gaussian", mean=mean, cov=cov)
    assert d.dim == 3
    n = 20000
    x = np.asarray(d.sample(jax.random.key(0), n), np.float64)
    evals, evecs = np.linalg.eigh(cov)
    y = (x - mean) @ evecs / np.sqrt(evals)
    assert np.all(np.abs(y.mean(0)) < 4 / math.sqrt(n))
    assert np.all(np.abs(np.cov(y.T) - np.eye(3)) < 4 * math.sqrt(2 / n))


def test_default_and_errors():
    d = get_dataset("gaussian")
    assert d.dim == 2 and d.mean.tolist() == [0.5, -0.25]
    assert get_dataset("gaussian", mean=[0.0, 0.0, 0.0]).cov.tolist() == np.eye(3).tolist()
    for bad in ({"mean": [0.0], "cov": [[1.0, 0.0], [0.0, 1.0]]}, {"cov": [[1.0, 2.0], [2.0, 1.0]]},
                {"cov": [[1.0, 0.5], [0.0, 1.0]]}, {"mean": []}):
        with pytest.raises(DiffcliError):
            get_dataset("gaussian", **bad)


def test_config_lists(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('[data]\nname = "gaussian"\nmean = [1, 2.5]\ncov = [[1.0, 0.0], [0, 2]]\n')
    cfg = C.load(p)
    assert cfg.data.mean == [1, 2.5] and cfg.data.cov == [[1.0, 0.0], [0, 2]]
    again = tmp_path / "again.toml"
    again.write_text(C.to_toml(cfg))
    assert C.load(again).data == cfg.data
    from diffcli.training.setup import resolve

    assert resolve(cfg).data.options == {"mean": [1.0, 2.5], "cov": [[1.0, 0.0], [0.0, 2.0]]}
    p.write_text('[data]\nname = "gaussian"\nmean = ["a", 1]\n')
    with pytest.raises(DiffcliError, match="data.mean must be"):  # options are checked by their data set
        resolve(C.load(p))
    p.write_text('[data]\nmean = [1, 1]\n')
    with pytest.raises(DiffcliError, match="data set 'cat' takes no option data.mean; it accepts: data.noise"):
        resolve(C.load(p))
