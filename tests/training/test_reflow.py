"""diffcli reflow (diffcli/reflow.py): the pairs are the parent's own map from its source draws,
the child starts from the parent's weights and records its lineage, chains count k, resume
trains on the same pairs; bad requests fail before anything is written."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from safetensors.numpy import load_file

from diffcli import config as C
from diffcli.errors import DiffcliError
from diffcli.reflow import child_config, reflow_run
from diffcli.training.pairs import PAIRS, load_pairs

PLAN = {"solver": "euler", "steps": 4}
N = 256


@pytest.fixture(scope="module")
def chain(tiny_run, tmp_path_factory):
    """A 2-rectified child of the tiny run trained at a vanishing lr (so its weights stay the
    parent's), and a 3-rectified grandchild."""
    root = tmp_path_factory.mktemp("reflow")
    child, s1, rec = reflow_run(tiny_run.run_dir, PLAN, pairs=N, seed=3, steps=10, runs_root=root, name="child",
                                overrides=["train.lr=1e-12", "train.chunk=10"])
    grand, _, _ = reflow_run(child, PLAN, pairs=N, steps=10, runs_root=root, name="grand", distill=True,
                             overrides=["train.chunk=10"])
    return tiny_run, child, grand, rec


def test_pairs_are_the_parents_map(chain):
    """x_noise is the prior draw of the pairs' own key (no sampling seed's), x_data the parent's
    solve of exactly those points with the pairs' solver."""
    from diffcli.reflow import PAIRS_SALT
    from diffcli.sampling.api import plan_for, sampler_for, weights

    tiny, child, _, rec = chain
    t = load_file(child / PAIRS)
    shape = tiny.setup.dataset.shape
    key = jax.random.fold_in(jax.random.key(3), PAIRS_SALT)
    x1 = np.asarray(tiny.setup.process.prior_sample(key, (N, *shape)))
    np.testing.assert_allclose(t["x_noise"], x1, rtol=1e-6, atol=1e-6)
    seed3 = np.asarray(tiny.setup.process.prior_sample(jax.random.key(3), (N, *shape)))
    assert np.abs(t["x_noise"] - seed3).min() > 0  # sampling seed 3 draws other points
    sampler = sampler_for(tiny.setup, plan_for(tiny.setup, **PLAN), N)
    sol = jax.jit(sampler.run)(weights(tiny.setup, tiny.state), key, sampler.times, 0.0, 0.0)
    np.testing.assert_allclose(t["x_data"], np.asarray(sol.x), rtol=1e-5, atol=1e-5)
    assert rec["nfe"] == 4 and rec["n"] == N and rec["seed"] == 3 and rec["solver"].startswith("euler")


def test_child_starts_from_the_parents_weights(chain):
    from diffcli.training.restore import load_run

    tiny, child, _, _ = chain
    _, setup, state = load_run(child)
    parent_w = tiny.state.ema  # the tiny run samples with its EMA
    for a, b in zip(jax.tree.leaves(state.params), jax.tree.leaves(parent_w), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    assert setup.cfg.train.pairs == PAIRS and setup.cfg.model.coupling == "pairs"
    assert "score" not in setup.process.capabilities and "density" in setup.process.capabilities
    assert setup.cfg.train.seed == 3 and setup.cfg.train.steps == 10


def test_lineage_counts_the_chain(chain):
    tiny, child, grand, _ = chain
    r1 = json.loads((child / "run.json").read_text())["reflow"]
    r2 = json.loads((grand / "run.json").read_text())["reflow"]
    assert r1["k"] == 2 and r2["k"] == 3
    assert r1["parent"] == str(tiny.run_dir.resolve()) and r2["chain"] == [str(tiny.run_dir.resolve()), str(child.resolve())]
    assert len(r1["parent_checkpoint_sha256"]) == 64 and r1["pairs"]["nfe"] == 4
    assert r2["distill"] is True and C.load(grand / "config.toml").train.distill is True


def test_resume_trains_on_the_stored_pairs(chain, tmp_path):
    import shutil

    from diffcli.training.api import resume_run

    _, child, _, _ = chain
    copy = tmp_path / "child"
    shutil.copytree(child, copy)
    _, s = resume_run(copy, steps=20)
    assert s.steps == 10 and np.isfinite(s.final_loss)
    (copy / PAIRS).write_bytes(b"garbage")
    before = (copy / "config.toml").read_text()
    with pytest.raises(DiffcliError, match="pairs file .* is unreadable"):
        resume_run(copy, steps=30)
    assert (copy / "config.toml").read_text() == before  # refused before anything is written


def test_load_pairs_checks_shape(tmp_path):
    from diffcli.training.pairs import pairs_bytes

    p = tmp_path / PAIRS
    p.write_bytes(pairs_bytes(np.zeros((5, 3)), np.zeros((5, 3)), {}))
    with pytest.raises(DiffcliError, match=r"both must be \(N, 2\)"):
        load_pairs(p, (2,))


def test_refusals_write_nothing(tiny_run, tmp_path):
    with pytest.raises(DiffcliError, match="euler-maruyama"):
        reflow_run(tiny_run.run_dir, {"solver": "euler-maruyama", "steps": 4}, pairs=N, runs_root=tmp_path, name="x")
    with pytest.raises(DiffcliError, match="--pairs must be an integer"):
        reflow_run(tiny_run.run_dir, PLAN, pairs=0, runs_root=tmp_path, name="x")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(DiffcliError, match="already exists"):
        reflow_run(tiny_run.run_dir, {"solver": "euler", "steps": 10**5}, pairs=10**6, runs_root=tmp_path, name="taken")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["taken", "x"]
    vp = C.from_dict({"model": {"process": "vpsde"}})
    with pytest.raises(DiffcliError, match="does not train on \\(source, data\\) pairs"):
        child_config(vp, None, None, False, [])


def test_distill_needs_pairs(tiny_cfg):
    from diffcli.training.setup import build

    with pytest.raises(DiffcliError, match="train.distill .* needs train.pairs"):
        build(C.from_dict({"train": {"distill": True}}, tiny_cfg))
    with pytest.raises(DiffcliError, match="the pairs are the coupling|train.pairs are the coupling"):
        build(C.from_dict({"train": {"pairs": PAIRS}, "model": {"coupling": "ot", "coupling_block": 16}}, tiny_cfg))
    with pytest.raises(DiffcliError, match="needs train.pairs, which diffcli reflow writes"):
        build(C.from_dict({"model": {"coupling": "pairs"}}, tiny_cfg))
    with pytest.raises(DiffcliError, match="must name a file in the run directory"):
        build(C.from_dict({"train": {"pairs": "../x.safetensors"}, "model": {"coupling": "pairs"}}, tiny_cfg))


def test_pairs_config_without_pairs_writes_nothing(chain, tmp_path):
    """A reflowed run's config given to plain `train` has no pairs to train on: refused before
    the run directory is made."""
    from diffcli.training.api import train_run

    _, child, _, _ = chain
    with pytest.raises(DiffcliError, match="names pairs stored in a run by diffcli reflow"):
        train_run(C.load(child / "config.toml"), tmp_path, "again")
    assert not list(tmp_path.iterdir())


def test_a_distilled_run_is_not_reflowed(chain, tmp_path):
    _, _, grand, _ = chain
    with pytest.raises(DiffcliError, match="is distilled"):
        reflow_run(grand, PLAN, pairs=N, runs_root=tmp_path, name="x")
