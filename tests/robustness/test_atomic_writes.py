"""A crash between writing a file and renaming it into place leaves the previous file intact."""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest

from diffcli.runs import read_json, write_json
from diffcli.training import checkpoint


def _leaves(state):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(state._replace(key=jax.random.key_data(state.key)))]


def test_crash_before_rename_keeps_previous_checkpoint(tiny_run, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    checkpoint.save(run, tiny_run.state)
    good = (run / "checkpoint.safetensors").read_bytes()

    def crash(*_a, **_k):
        raise OSError("simulated power loss before rename")

    newer = tiny_run.state._replace(step=tiny_run.state.step + 1)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        checkpoint.save(run, newer)
    monkeypatch.undo()

    assert (run / "checkpoint.safetensors").read_bytes() == good
    assert not [p.name for p in run.iterdir() if ".tmp" in p.name], "temporary files left behind"
    loaded = checkpoint.load(run, tiny_run.setup.init_state())
    assert int(loaded.step) == int(tiny_run.state.step)
    for a, b in zip(_leaves(loaded), _leaves(tiny_run.state)):
        np.testing.assert_array_equal(a, b)


def test_crash_while_writing_json_keeps_previous(tmp_path, monkeypatch):
    p = tmp_path / "summary.json"
    write_json(p, {"v": 1})
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_json(p, {"v": 2})
    monkeypatch.undo()
    assert read_json(p) == {"v": 1}
    assert [q.name for q in tmp_path.iterdir()] == ["summary.json"]
