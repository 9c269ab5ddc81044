"""Checkpoints: bit-for-bit round trip of a trained state; corrupt files and wrong configs fail cleanly."""

from __future__ import annotations

import json
import shutil

import jax
import numpy as np
import pytest
from safetensors.numpy import load_file

from diffcli import config as C
from diffcli.errors import DiffcliError
from diffcli.runs import CHECKPOINT
from diffcli.training import checkpoint
from diffcli.training.restore import load_run
from diffcli.training.setup import build


def leaves_with_paths(state):
    tree = {"params": state.params, "ema": state.ema, "opt": state.opt_state,
            "key": jax.random.key_data(state.key), "step": state.step}
    return [(jax.tree_util.keystr(p), np.asarray(v)) for p, v in jax.tree_util.tree_flatten_with_path(tree)[0]]


def assert_bitwise_equal(a, b):
    la, lb = leaves_with_paths(a), leaves_with_paths(b)
    assert [p for p, _ in la] == [p for p, _ in lb]
    assert len(la) > 5
    for (path, x), (_, y) in zip(la, lb):
        assert x.dtype == y.dtype, path
        assert x.shape == y.shape, path
        assert x.tobytes() == y.tobytes(), path  # bit for bit (NaN and −0 included)


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, dst)
    return dst


def test_trained_state_is_not_the_initial_one(tiny_run):
    init = tiny_run.setup.init_state()
    p0 = jax.tree.leaves(init.params)
    p1 = jax.tree.leaves(tiny_run.state.params)
    assert any(not np.array_equal(a, b) for a, b in zip(p0, p1))
    # EMA (decay 0.5) differs from the raw weights, so both are really stored
    e1 = jax.tree.leaves(tiny_run.state.ema)
    assert any(not np.array_equal(a, b) for a, b in zip(e1, p1))
    assert int(tiny_run.state.step) == tiny_run.cfg.train.steps
    assert not np.array_equal(jax.random.key_data(init.key), jax.random.key_data(tiny_run.state.key))


def test_save_load_roundtrip_bit_for_bit(tiny_run):
    loaded = checkpoint.load(tiny_run.run_dir, tiny_run.setup.init_state())
    assert_bitwise_equal(loaded, tiny_run.state)
    assert jax.random.key_data(loaded.key).dtype == jax.random.key_data(tiny_run.state.key).dtype
    assert jax.dtypes.issubdtype(loaded.key.dtype, jax.dtypes.prng_key)


def test_load_run_restores_the_same_state(tiny_run):
    run_dir, setup, state = load_run(tiny_run.run_dir)
    assert run_dir == tiny_run.run_dir
    assert setup.cfg == tiny_run.setup.cfg  # the resolved config: every option spelt out
    assert_bitwise_equal(state, tiny_run.state)


def test_save_of_a_loaded_state_gives_the_same_tensors(tiny_run, tmp_path):
    loaded = checkpoint.load(tiny_run.run_dir, tiny_run.setup.init_state())
    checkpoint.save(tmp_path, loaded)
    a = load_file(tiny_run.run_dir / CHECKPOINT)
    b = load_file(tmp_path / CHECKPOINT)
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


def test_checkpoint_json_describes_the_file(tiny_run):
    meta = json.loads((tiny_run.run_dir / "checkpoint.json").read_text())
    assert meta["step"] == tiny_run.cfg.train.steps
    assert meta["tensors"] == len(load_file(tiny_run.run_dir / CHECKPOINT))


def test_tensor_names_are_pytree_paths(tiny_run):
    names = set(load_file(tiny_run.run_dir / CHECKPOINT))
    assert "step" in names and "key" in names
    assert any(n.startswith("params/") for n in names)
    assert any(n.startswith("ema/") for n in names)
    assert any(n.startswith("opt/") for n in names)


def _one_line(e) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


@pytest.mark.parametrize("keep", [0, 8, 100, -1], ids=["empty", "8-bytes", "100-bytes", "minus-one-byte"])
def test_truncated_checkpoint(tiny_run, run_copy, keep):
    p = run_copy / CHECKPOINT
    data = p.read_bytes()
    p.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(run_copy, tiny_run.setup.init_state())
    assert CHECKPOINT in _one_line(e)
    with pytest.raises(DiffcliError):
        load_run(run_copy)


def test_garbage_checkpoint(tiny_run, run_copy):
    (run_copy / CHECKPOINT).write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(run_copy, tiny_run.setup.init_state())
    assert CHECKPOINT in _one_line(e)


def test_garbage_with_a_plausible_header(tiny_run, run_copy):
    # a valid 8-byte length followed by junk JSON
    (run_copy / CHECKPOINT).write_bytes((16).to_bytes(8, "little") + b"{not json at all")
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(run_copy, tiny_run.setup.init_state())
    _one_line(e)


def test_missing_checkpoint_is_an_error_naming_the_run(run_copy):
    (run_copy / CHECKPOINT).unlink()
    with pytest.raises(DiffcliError) as e:
        load_run(run_copy)
    assert "checkpoint" in _one_line(e)


def _template(tiny_cfg, **network):
    cfg = C.from_dict({"network": network}, tiny_cfg)
    return build(cfg).init_state()


def test_wrong_width_names_a_tensor(tiny_cfg, tiny_run):
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(tiny_run.run_dir, _template(tiny_cfg, width=32))
    msg = _one_line(e)
    names = set(load_file(tiny_run.run_dir / CHECKPOINT))
    quoted = [n for n in names if f"'{n}'" in msg]
    assert quoted, msg
    assert "16" in msg and "32" in msg  # both shapes


def test_wrong_depth_names_a_tensor(tiny_cfg, tiny_run):
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(tiny_run.run_dir, _template(tiny_cfg, depth=2))
    msg = _one_line(e)
    assert "params/" in msg or "ema/" in msg or "opt/" in msg


def test_fewer_layers_reports_the_extra_tensors(tiny_cfg, tiny_run, tmp_path):
    deeper = C.from_dict({"network": {"depth": 2}}, tiny_cfg)
    state = build(deeper).init_state()
    checkpoint.save(tmp_path, state)
    with pytest.raises(DiffcliError) as e:
        checkpoint.load(tmp_path, tiny_run.setup.init_state())
    assert "hidden" in _one_line(e)
