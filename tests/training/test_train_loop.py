"""The training driver and run directories: metrics log, bit-for-bit resume, failures."""

from __future__ import annotations

import json
import math

import jax
import numpy as np
import pytest
from flax import nnx

from diffcli import config as C
from diffcli.errors import DiffcliError
from diffcli.runs import CHECKPOINT, new_run_dir
from diffcli.training import checkpoint
from diffcli.training.loop import NonFiniteLoss, load_losses, train
from diffcli.training.setup import build


def test_metrics_log_one_line_per_chunk(tiny_run):
    rows = [json.loads(x) for x in (tiny_run.run_dir / "metrics.jsonl").read_text().splitlines()]
    steps, chunk = tiny_run.cfg.train.steps, tiny_run.cfg.train.chunk
    assert [r["step"] for r in rows] == list(range(chunk, steps + 1, chunk))
    for r in rows:
        assert math.isfinite(r["loss"]) and r["loss_min"] <= r["loss"] <= r["loss_max"]
        assert r["lr"] == pytest.approx(tiny_run.cfg.train.lr)  # constant schedule
    np.testing.assert_allclose(load_losses(tiny_run.run_dir),
                               [[r["step"], r["loss"], r["loss_min"], r["loss_max"], r["lr"]] for r in rows], rtol=1e-6)


def test_summary_json(tiny_run):
    s = json.loads((tiny_run.run_dir / "summary.json").read_text())
    assert s["total_steps"] == tiny_run.cfg.train.steps == s["steps"]
    assert math.isfinite(s["final_loss"])


def test_resume_from_a_checkpoint_is_bit_for_bit(tiny_cfg, tiny_run, tmp_path):
    """Train half, save, load the checkpoint, train the rest: the same state as straight through."""
    half = C.from_dict({"train": {"steps": tiny_cfg.train.steps // 2}}, tiny_cfg)
    assert half.train.steps % half.train.chunk == 0
    run_dir = tmp_path / "half"
    run_dir.mkdir()
    train(build(half), run_dir)
    full_setup = build(tiny_cfg)
    loaded = checkpoint.load(run_dir, full_setup.init_state())
    assert int(loaded.step) == half.train.steps
    state, summary = train(full_setup, run_dir, state=loaded)
    assert summary.steps == tiny_cfg.train.steps - half.train.steps
    for a, b in zip(jax.tree.leaves(state.params) + jax.tree.leaves(state.ema) + jax.tree.leaves(state.opt_state),
                    jax.tree.leaves(tiny_run.state.params) + jax.tree.leaves(tiny_run.state.ema)
                    + jax.tree.leaves(tiny_run.state.opt_state)):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    assert np.array_equal(jax.random.key_data(state.key), jax.random.key_data(tiny_run.state.key))
    steps = [json.loads(x)["step"] for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(tiny_cfg.train.chunk, tiny_cfg.train.steps + 1, tiny_cfg.train.chunk))


def test_divergence_keeps_the_promised_checkpoint(tiny_cfg, tmp_path):
    # An optimiser whose rate warms up from 0 to 1e30 (beyond what the config accepts, so set on
    # the built pieces): the first chunk (rates 0, then 1e29) has finite losses, the second does not.
    import dataclasses

    import optax

    cfg = C.from_dict({"train": {"warmup": 0, "chunk": 2, "steps": 6}}, tiny_cfg)
    schedule = optax.linear_schedule(0.0, 1e30, 10)
    setup = dataclasses.replace(build(cfg), tx=optax.adam(schedule), schedule=schedule)
    run_dir = tmp_path / "diverge"
    run_dir.mkdir()
    with pytest.raises(NonFiniteLoss) as e:
        train(setup, run_dir)
    msg = str(e.value)
    assert e.value.exit_code == 3 and "\n" not in msg
    logged = [json.loads(x)["step"] for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert logged == [2]  # one good chunk before the divergence
    # the message promises a checkpoint: it must exist and load
    assert (run_dir / CHECKPOINT).is_file() or "checkpoint is kept" not in msg
    if (run_dir / CHECKPOINT).is_file():
        state = checkpoint.load(run_dir, setup.init_state())
        assert 0 <= int(state.step) <= 2
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.params))


# ------------------------------------------------------------------------- run directories


def test_new_run_dir_default_names_do_not_collide(tmp_path):
    (tmp_path / "rf-cat-1").mkdir()
    (tmp_path / "rf-cat-2").mkdir()
    assert new_run_dir(tmp_path, None, "rf-cat", False) == tmp_path / "rf-cat-3"


def test_new_run_dir_refuses_an_existing_run(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "config.toml").write_text("")
    with pytest.raises(DiffcliError) as e:
        new_run_dir(tmp_path, "mine", "rf-cat", False)
    assert "mine" in str(e.value) and "--overwrite" in str(e.value)
    assert new_run_dir(tmp_path, "mine", "rf-cat", True) == tmp_path / "mine"


@pytest.mark.parametrize("name", ["a/b", ".", ".."])
def test_new_run_dir_rejects_paths_as_names(tmp_path, name):
    with pytest.raises(DiffcliError):
        new_run_dir(tmp_path, name, "rf-cat", False)


def test_new_run_dir_with_a_file_in_the_way(tmp_path):
    (tmp_path / "taken").write_text("not a run")
    with pytest.raises(DiffcliError):
        new_run_dir(tmp_path, "taken", "rf-cat", False)


def test_train_run_into_an_existing_empty_directory(tiny_cfg, tmp_path):
    from diffcli.training.api import train_run

    (tmp_path / "empty").mkdir()
    run_dir, summary = train_run(tiny_cfg, tmp_path, "empty")
    assert run_dir == tmp_path / "empty" and (run_dir / CHECKPOINT).is_file()


def _image_networks() -> list[str]:
    from diffcli.errors import DiffcliError
    from diffcli.nn.base import NETWORKS, build_network

    out = []
    for name in NETWORKS.names():
        try:
            build_network(name, {}, (8, 8, 1), nnx.Rngs(0))
            out.append(name)
        except DiffcliError:
            pass
    return out


@pytest.mark.parametrize("network", _image_networks())
def test_a_chunk_in_a_scan_or_a_loop_is_the_same_training(network, tmp_path):
    """The chunk fused in one lax.scan and the chunk that calls one compiled step in a loop (what
    convolutional networks get on the CPU) train alike, for every network that takes images; the
    loop is chosen exactly for the networks that hold a convolution."""
    import jax
    import numpy as np

    from diffcli import config as C
    from diffcli.training.setup import build
    from diffcli.training.step import compile_train_chunk, has_convolution

    np.save(tmp_path / "imgs.npy", np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype(np.float32))
    setup = build(C.from_dict({"data": {"name": str(tmp_path / "imgs.npy")}, "network": {"name": network},
                               "train": {"batch": 2}}))
    model = nnx.merge(setup.graphdef, setup.init_state().params)
    convs = any(isinstance(m, nnx.Conv) for _, m in nnx.iter_graph(model))
    assert has_convolution(setup, setup.init_state()) == convs
    out = [compile_train_chunk(setup, 2, setup.init_state(), fused=f)(setup.init_state()) for f in (True, False)]
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-4, atol=1e-6)
    for a, b in zip(jax.tree.leaves(out[0][0].params), jax.tree.leaves(out[1][0].params)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
