"""Ctrl-C / SIGTERM during `diffcli train` saves a checkpoint; --resume continues bit for bit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load

STEPS = 6000
TOML = f"""
[network]
width = 16
depth = 1
n_freqs = 4
[train]
steps = {STEPS}
batch = 32
chunk = 50
checkpoint_every = 0
seed = 3
[sample]
n = 64
"""


def _tensors(run):
    return load((run / "checkpoint.safetensors").read_bytes())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, cli_env):
    d = tmp_path_factory.mktemp("resume")
    (d / "cfg.toml").write_text(TOML)
    return d


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_and_resume_matches_uninterrupted(workspace, cli_env, cli, sig, code):
    name = f"int{code}"
    p = subprocess.Popen([sys.executable, "-m", "diffcli", "train", "--config", "cfg.toml", "--name", name],
                         cwd=workspace, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = workspace / "runs" / name / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and log.read_text().strip()):
        time.sleep(0.05)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == code, err
    assert "Traceback" not in err and "checkpoint saved" in err and "--resume" in err
    run = workspace / "runs" / name
    stopped_at = json.loads((run / "checkpoint.json").read_text())["step"]
    assert 0 < stopped_at < STEPS, "the signal must arrive mid-training for this test to mean anything"

    r = cli(["train", "--resume", f"runs/{name}"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "checkpoint.json").read_text())["step"] == STEPS
    steps_logged = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps_logged == sorted(set(steps_logged)) and steps_logged[-1] == STEPS

    ref = workspace / "runs" / "straight"
    if not ref.exists():
        r = cli(["train", "--config", "cfg.toml", "--name", "straight"], workspace, cli_env)
        assert r.returncode == 0, r.stderr
    a, b = _tensors(run), _tensors(ref)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_of_finished_run_says_so(workspace, cli_env, cli):
    r = cli(["train", "--config", "cfg.toml", "--name", "done", "--steps", "100"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    r = cli(["train", "--resume", "runs/done"], workspace, cli_env)
    assert r.returncode == 2 and "already at step 100" in r.stderr and "Traceback" not in r.stderr


def _interrupt_overwrite(workspace, cli_env, args, sig):
    """Start `diffcli train … --overwrite`, wait until the old run is aside and the new one has
    logged its first chunk, send sig; (returncode, stderr)."""
    p = subprocess.Popen([sys.executable, "-m", "diffcli", *args], cwd=workspace, env=cli_env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    name = args[args.index("--name") + 1]
    log = workspace / "runs" / name / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (list((workspace / "runs").glob(f".{name}.replaced-*"))
                                          and log.exists() and log.read_text().strip()):
        time.sleep(0.05)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, err


def test_ctrl_c_during_overwrite_keeps_the_old_run_and_the_replacement(workspace, cli_env, cli):
    r = cli(["train", "--config", "cfg.toml", "--name", "keepme", "--steps", "100"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    old = (workspace / "runs" / "keepme" / "checkpoint.safetensors").read_bytes()
    args = ["train", "--config", "cfg.toml", "--name", "keepme", "--overwrite"]
    code, err = _interrupt_overwrite(workspace, cli_env, args, signal.SIGINT)
    assert code == 130 and "Traceback" not in err and "previous run is back" in err, err
    assert (workspace / "runs" / "keepme" / "checkpoint.safetensors").read_bytes() == old
    kept = [d for d in (workspace / "runs").iterdir() if d.name.startswith("keepme.replacement-")]
    assert len(kept) == 1 and (kept[0] / "checkpoint.safetensors").is_file() and kept[0].name in err
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]


def test_sigkill_during_overwrite_is_put_back_by_the_next_command(workspace, cli_env, cli):
    r = cli(["train", "--config", "cfg.toml", "--name", "killed", "--steps", "100"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    old = (workspace / "runs" / "killed" / "checkpoint.safetensors").read_bytes()
    args = ["train", "--config", "cfg.toml", "--name", "killed", "--overwrite"]
    code, _ = _interrupt_overwrite(workspace, cli_env, args, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert [d for d in (workspace / "runs").iterdir() if d.name.startswith(".killed.replaced-")]
    r = cli(["sample", "killed", "--steps", "2", "--n", "16"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    assert "put back runs/killed" in r.stderr
    assert (workspace / "runs" / "killed" / "checkpoint.safetensors").read_bytes() == old
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]
    assert [d for d in (workspace / "runs").iterdir() if d.name.startswith("killed.replacement-")]


def test_a_refused_resume_changes_nothing(workspace, cli_env, cli):
    r = cli(["train", "--config", "cfg.toml", "--name", "short", "--steps", "100"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    before = (workspace / "runs" / "short" / "config.toml").read_bytes()
    r = cli(["train", "--resume", "runs/short", "--steps", "50"], workspace, cli_env)
    assert r.returncode == 2 and "already at step 100 of 50" in r.stderr
    assert (workspace / "runs" / "short" / "config.toml").read_bytes() == before


def test_overwrite_of_a_symbolic_link_is_refused(workspace, cli_env, cli):
    import os

    r = cli(["train", "--config", "cfg.toml", "--name", "target", "--steps", "50"], workspace, cli_env)
    assert r.returncode == 0, r.stderr
    os.symlink("target", workspace / "runs" / "link")
    r = cli(["train", "--config", "cfg.toml", "--name", "link", "--steps", "50", "--overwrite"], workspace, cli_env)
    assert r.returncode == 2 and "symbolic link" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (workspace / "runs" / "link").is_symlink()
    assert (workspace / "runs" / "target" / "checkpoint.safetensors").is_file()
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]
