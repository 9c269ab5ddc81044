"""Couplings (diffcli/couplings/): every registered one pairs data with source points among the
drawn ones, the OT couplings do it near the exact optimum (SciPy's assignment), blocks stay
apart; data sets as sources; a coupled model trains."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from diffcli import config as C
from diffcli.couplings import COUPLINGS, couple
from diffcli.errors import DiffcliError
from diffcli.processes import get_process
from diffcli.processes.sources import get_source

B = 48


def _points(seed: int, n: int = B):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype(np.float32), (rng.normal(size=(n, 2)) * 0.5).astype(np.float32)


def _cost(a, b) -> float:
    return float(np.mean(np.sum((a - b) ** 2, axis=1)))


@pytest.fixture(scope="module")
def matched():
    """coupling -> (x0, x1, x1 as re-paired) for one block of B points, each coupling compiled once."""
    x0, x1 = _points(0)
    out = {}
    for name in COUPLINGS.names():
        f = jax.jit(lambda k, a, b, name=name: couple(name, k, a, b, 0, 0.01))
        out[name] = (x0, x1, np.asarray(f(jax.random.key(1), x0, x1)))
    return out


@pytest.mark.parametrize("name", COUPLINGS.names())
def test_pairs_are_drawn_points(matched, name):
    x0, x1, y = matched[name]
    assert y.shape == x1.shape
    d = np.sum((y[:, None] - x1[None]) ** 2, axis=-1)
    assert np.all(d.min(axis=1) == 0), "every paired point is one of the drawn source points"


@pytest.mark.parametrize("name", [n for n in COUPLINGS.names() if COUPLINGS.get(n).match is not None])
def test_ot_couplings_are_near_the_exact_optimum(matched, name):
    x0, x1, y = matched[name]
    c = np.sum((x0[:, None] - x1[None]) ** 2, axis=-1)
    r, k = linear_sum_assignment(c)
    best, independent = c[r, k].mean(), _cost(x0, x1)
    assert best < 0.5 * independent  # the test has room: OT pairs cost far less than independent ones
    assert _cost(x0, y) <= best * 1.05 + 1e-5, (name, _cost(x0, y), best)


def test_exact_ot_is_a_permutation_at_the_optimum(matched):
    x0, x1, y = matched["ot"]
    c = np.sum((x0[:, None] - x1[None]) ** 2, axis=-1)
    r, k = linear_sum_assignment(c)
    assert len({tuple(p) for p in y}) == B
    assert _cost(x0, y) == pytest.approx(c[r, k].mean(), rel=1e-5)


@pytest.mark.parametrize("process", ["rf", "bridge"])
def test_the_loss_sees_the_coupled_pairs(process):
    """What a coupled process's loss regresses on: its source draws re-paired by the coupling, at a
    small fraction of the independent pairs' transport cost (the same draws, other partners)."""
    from diffcli.processes.sources import paired_noise

    x0 = _points(3, 64)[0]
    ind = get_process(process)
    ot = get_process(process, coupling="ot", coupling_block=16)
    key = jax.random.key(5)
    y_ind, y_ot = np.asarray(paired_noise(ind, key, x0)), np.asarray(paired_noise(ot, key, x0))
    for i in range(4):
        blk = slice(16 * i, 16 * (i + 1))
        assert sorted(map(tuple, y_ot[blk])) == sorted(map(tuple, y_ind[blk]))
    assert _cost(x0, y_ot) < 0.6 * _cost(x0, y_ind)


def test_independent_keeps_the_draws(matched):
    _, x1, y = matched["independent"]
    np.testing.assert_array_equal(y, x1)


def test_blocks_are_matched_apart():
    x0, x1 = _points(2, 64)
    y = np.asarray(jax.jit(lambda a, b: couple("ot", jax.random.key(0), a, b, 16, 0.01))(x0, x1))
    for i in range(4):
        blk = slice(16 * i, 16 * (i + 1))
        assert sorted(map(tuple, y[blk])) == sorted(map(tuple, x1[blk]))


@pytest.mark.parametrize("block,batch,msg", [(48, 64, "must divide train.batch (64); e.g. 32"),
                                             (5000, 8192, "coupling_block must be an integer in [0, 4096]")])
def test_block_errors(block, batch, msg):
    cfg = C.from_dict({"model": {"process": "rf", "coupling": "ot", "coupling_block": block},
                       "train": {"batch": batch}})
    from diffcli.training.setup import build

    with pytest.raises(DiffcliError, match=re.escape(msg)):
        build(cfg)


def test_unknown_coupling_and_bad_epsilon():
    with pytest.raises(DiffcliError, match="unknown coupling 'emd'; accepted: independent, ot, pairs, sinkhorn"):
        get_process("rf", coupling="emd")
    with pytest.raises(DiffcliError, match="coupling_epsilon must be a finite number > 0"):
        get_process("rf", coupling="sinkhorn", coupling_epsilon=-1.0)


def test_a_data_set_is_a_source():
    s = get_source("8gaussians")
    x = np.asarray(s.sample(jax.random.key(0), (4000, 2)))
    r = np.linalg.norm(x, axis=1)
    assert abs(np.median(r) - 2.0) < 0.05  # eight Gaussians on the circle of radius 2
    p = get_process("rf", source="8gaussians")
    assert "density" not in p.capabilities and "score" not in p.capabilities and "ode" in p.capabilities
    assert "score" not in get_process("rf", coupling="ot").capabilities  # x1 depends on x0: no Tweedie score
    coupled_bridge = get_process("bridge", coupling="ot").capabilities
    assert coupled_bridge == {"bridge"}, coupled_bridge  # no Gaussian path: only the exact posterior steps
    with pytest.raises(DiffcliError, match="has no density"):
        s.log_prob(x)
    want = "unknown source 'nothing'; accepted: gaussian, uniform-square, or a data set: 8gaussians, cat"
    with pytest.raises(DiffcliError, match=want):
        get_process("rf", source="nothing")


def test_a_source_of_another_shape_is_refused():
    from diffcli.training.setup import build

    cfg = C.from_dict({"data": {"name": "gaussian", "mean": [0.0, 0.0, 0.0], "cov": np.eye(3).tolist()},
                       "model": {"process": "rf", "source": "8gaussians"}})
    with pytest.raises(DiffcliError, match=r"source '8gaussians' draws points of shape \(2,\), the data .* \(3,\)"):
        build(cfg)


def test_coupled_training_runs(tiny_cfg, tmp_path):
    """Compiled steps of OT-coupled, data-to-data training run to the end with a finite loss (the
    bridge's coupled loss: test_the_loss_sees_the_coupled_pairs)."""
    from diffcli.training.loop import train
    from diffcli.training.setup import build

    model = {"process": "rf", "coupling": "ot", "coupling_block": 16, "source": "8gaussians"}
    cfg = C.from_dict({"model": model, "train": {"steps": 40, "chunk": 20}}, tiny_cfg)
    state, s = train(build(cfg), tmp_path)
    assert np.isfinite(s.final_loss) and int(state.step) == 40
