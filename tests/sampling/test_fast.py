"""The exported-program path of `diffcli sample` (sampling/fast.py): the stored program gives the
traced sampler's very samples, steps and NFE, and its key changes with every input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from diffcli.sampling import fast
from diffcli.sampling.api import plan_for, sampler_for, weights

CASES = [("euler", {"steps": 3}, 0), ("dpm++2m", {"steps": 4}, 2), ("tsit5", {"rtol": 1e-3}, 0)]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFCLI_CACHE_DIR", str(tmp_path / "jax"))
    return tmp_path


@pytest.mark.parametrize("solver, kw, k", CASES, ids=[c[0] for c in CASES])
def test_stored_program_is_the_traced_sampler(tiny_run, cache, solver, kw, k):
    setup, state, run_dir = tiny_run.setup, tiny_run.state, tiny_run.run_dir
    plan = plan_for(setup, solver, **kw)
    key = fast.program_key(run_dir, {"solver": solver, **kw, "k": k})
    meta, blob = fast.prepare(key, run_dir, setup, state, plan, 64, k, None)
    assert fast.load(key) == (meta, blob)
    traced = sampler_for(setup, plan, 64, k)  # one traced sampler (one compilation) for both seeds
    for seed in (0, 5):
        want = traced(weights(setup, state), seed)
        got = fast.run(meta, blob, run_dir, seed)
        np.testing.assert_array_equal(got.samples, want.samples)
        assert (got.nfe, got.steps, got.accepted, got.rejected) == (want.nfe, want.steps, want.accepted, want.rejected)
        if k:
            np.testing.assert_array_equal(got.trajectories, want.trajectories)


def test_key_follows_every_input(tiny_run, cache, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    base = fast.program_key(run, {"solver": "heun", "steps": 3})
    assert fast.program_key(run, {"solver": "heun", "steps": 3}) == base
    assert fast.program_key(run, {"solver": "heun", "steps": 4}) != base
    (run / "grids.json").write_text('{"fits": []}\n')
    assert fast.program_key(run, {"solver": "heun", "steps": 3}) != base
    ckpt = run / "checkpoint.safetensors"
    data = bytearray(ckpt.read_bytes())
    data[-1] ^= 1
    ckpt.write_bytes(bytes(data))
    (run / "grids.json").unlink()
    assert fast.program_key(run, {"solver": "heun", "steps": 3}) != base


def test_damaged_entry_is_a_miss(cache):
    fast.save("k" * 40, {"label": "x"}, b"blob")
    assert fast.load("k" * 40) == ({"label": "x", "version": fast.VERSION}, b"blob")
    (fast.cache_root() / ("k" * 40 + ".json")).write_text("{broken")
    assert fast.load("k" * 40) is None
