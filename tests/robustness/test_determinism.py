"""The same run, solver and seed give identical samples and metrics in two separate processes."""

from __future__ import annotations

import json
import shutil

import numpy as np


def test_sample_twice_in_two_processes(tiny_run, tmp_path, cli_env, cli):
    shutil.copytree(tiny_run.run_dir, tmp_path / "runs" / "t")
    outs = []
    for _ in range(2):
        r = cli(["sample", "runs/t", "--solver", "heun", "--steps", "5", "--n", "300", "--seed", "7"], tmp_path, cli_env)
        assert r.returncode == 0, r.stderr
        (npy,) = (tmp_path / "runs" / "t" / "samples").glob("heun*-seed7.npy")
        outs.append((np.load(npy), json.loads(npy.with_suffix(".json").read_text())))
    (a, ja), (b, jb) = outs
    np.testing.assert_array_equal(a, b)
    for k in ("cd", "mmd2", "nfe", "steps"):
        assert ja[k] == jb[k], k
