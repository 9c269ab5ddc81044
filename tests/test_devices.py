"""Every device: training and sampling sharded over 2 simulated CPU devices agree with one device.

The two-device run is a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=2 (the
flag must be set before JAX starts); the one-device run is this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
CFG = {"data": {"name": "digits"}, "model": {"process": "rf", "conditional": True},
       "network": {"width": 32, "depth": 1, "n_freqs": 4},
       "train": {"steps": 40, "batch": 64, "chunk": 20, "lr": 1e-3, "schedule": "constant", "warmup": 0}}


def train_and_sample(run_dir: str) -> dict:
    """Train CFG for 40 steps (2 compiled chunks), then sample 64 guided points: the losses, the
    samples, the device count and whether the compiled step all-reduces across devices."""
    import jax

    import diffcli  # noqa: F401
    from diffcli import config as C
    from diffcli.conditioning import Guide
    from diffcli.devices import data_mesh, replicate
    from diffcli.sampling.api import plan_for, sampler_for
    from diffcli.training.loop import train
    from diffcli.training.setup import build
    from diffcli.training.step import make_train_chunk

    setup = build(C.from_dict(CFG))
    hlo = make_train_chunk(setup, 2).lower(replicate(setup.init_state(), data_mesh())).compile().as_text()
    state, _ = train(setup, Path(run_dir))
    losses = [json.loads(line)["loss"] for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    r = sampler_for(setup, plan_for(setup, "heun", 4), 64, guide=Guide(1.0))(state.params, 0)
    return {"devices": jax.device_count(), "losses": losses, "samples": np.asarray(r.samples).ravel().tolist(),
            "nfe": r.nfe, "all_reduce": "all-reduce" in hlo}


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory) -> dict:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", PYTHONPATH=str(TESTS))
    code = ("import json, sys; from test_devices import train_and_sample; "
            "print(json.dumps(train_and_sample(sys.argv[1])))")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path_factory.mktemp("two"))], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_two_devices_reproduce_one_devices_losses_and_samples(two_devices, tmp_path):
    one = train_and_sample(str(tmp_path))
    assert one["devices"] == 1 and two_devices["devices"] == 2
    assert two_devices["all_reduce"] and not one["all_reduce"]  # the batch really is split, the gradients summed
    np.testing.assert_allclose(two_devices["losses"], one["losses"], rtol=1e-5)
    np.testing.assert_allclose(two_devices["samples"], one["samples"], rtol=1e-4, atol=1e-4)
    assert two_devices["nfe"] == one["nfe"] == 2 * 8


def test_a_batch_that_does_not_split_over_the_devices_is_refused():
    from diffcli.devices import check_batch

    check_batch(7)  # one device here: anything goes
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    code = "from diffcli.devices import check_batch; check_batch(7)"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "train.batch (7) must be divisible by the 2 devices it is sharded over" in r.stderr
