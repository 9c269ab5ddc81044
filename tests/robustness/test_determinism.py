"""The same run, solver and seed give identical samples and metrics in two separate processes."""

from __future__ import annotations

import json

import numpy as np

SAMPLE = ["sample", "runs/t", "--solver", "heun", "--steps", "5", "--n", "300", "--seed", "7"]


def sample_twice(job) -> list[tuple[np.ndarray, dict]]:
    """`diffcli sample` of one trained run, twice, each in a fresh process (the second loads
    what the first compiled): [(samples, their JSON record)] of each. A subprocess-only test:
    it runs in the background from the start of the session (tests/conftest.py Jobs)."""
    run = job.tiny_run(job.dir / "runs" / "t")
    outs = []
    for _ in range(2):
        job.cli_ok(SAMPLE, job.dir)
        (npy,) = (run / "samples").glob("heun*-seed7.npy")
        outs.append((np.load(npy), json.loads(npy.with_suffix(".json").read_text())))
    return outs


BACKGROUND = {"test_sample_twice_in_two_processes": sample_twice}


def test_sample_twice_in_two_processes(background, request):
    (a, ja), (b, jb) = background(request)
    np.testing.assert_array_equal(a, b)
    for k in ("cd", "mmd2", "nfe", "steps"):
        assert ja[k] == jb[k], k
