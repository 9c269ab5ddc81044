"""Ctrl-C / SIGTERM during `diffcli train` saves a checkpoint; --resume continues bit for bit."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def trained(job) -> Path:
    """cfg.toml, runs/straight (all STEPS, uninterrupted: the reference of the signal tests) and
    runs/done (100 steps: what the other tests copy as their finished run), trained by `diffcli
    train` in the background from the start of the session (tests/conftest.py Jobs)."""
    (job.dir / "cfg.toml").write_text(TOML)
    job.cli_ok(["train", "--config", "cfg.toml", "--name", "straight"], job.dir)
    job.cli_ok(["train", "--config", "cfg.toml", "--name", "done", "--steps", "100"], job.dir)
    return job.dir


BACKGROUND = {"workspace": trained}


@pytest.fixture(scope="module")
def workspace(background, request) -> Path:
    return background(request, "workspace")


def finished_run(workspace, name: str) -> None:
    """runs/NAME: a copy of runs/done, a run trained by `diffcli train --steps 100` to its end."""
    shutil.copytree(workspace / "runs" / "done", workspace / "runs" / name, symlinks=True)


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

    a, b = _tensors(run), _tensors(workspace / "runs" / "straight")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_of_finished_run_says_so(workspace, cli_env, cli):
    finished_run(workspace, "finished")
    r = cli(["train", "--resume", "runs/finished"], workspace, cli_env)
    assert r.returncode == 2 and "already at step 100" in r.stderr and "Traceback" not in r.stderr


def _interrupt_overwrite(workspace, p: subprocess.Popen, args, sig):
    """p: `diffcli train … --overwrite` (args) just started in workspace: wait until the old run is
    aside and the new one has logged its first chunk, send sig; (returncode, stderr)."""
    name = args[args.index("--name") + 1]
    log = workspace / "runs" / name / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None and not (list((workspace / "runs").glob(f".{name}.replaced-*"))
                                                               and log.exists() and log.read_text().strip()):
        time.sleep(0.05)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, err


def _finished_then_overwritten(job, name: str, sig):
    """In the job's own directory: runs/NAME trained by `diffcli train --steps 100` to its end,
    then a `train --overwrite` of it interrupted by sig (all subprocesses: such tests run in the
    background from the start of the session, tests/conftest.py Jobs); (returncode, stderr,
    the directory, the first run's checkpoint)."""
    workspace = job.dir
    (workspace / "cfg.toml").write_text(TOML)
    job.cli_ok(["train", "--config", "cfg.toml", "--name", name, "--steps", "100"], workspace)
    old = (workspace / "runs" / name / "checkpoint.safetensors").read_bytes()
    args = ["train", "--config", "cfg.toml", "--name", name, "--overwrite"]
    code, err = _interrupt_overwrite(workspace, job.start_cli(args, workspace), args, sig)
    return code, err, workspace, old


def ctrl_c_during_overwrite(job):
    return _finished_then_overwritten(job, "keepme", signal.SIGINT)


def sigkill_during_overwrite(job):
    """…then the next command that opens the run (sample): what the test checks of each step."""
    code, _, workspace, old = _finished_then_overwritten(job, "killed", signal.SIGKILL)
    aside = [d for d in (workspace / "runs").iterdir() if d.name.startswith(".killed.replaced-")]
    return code, aside, job.cli(["sample", "killed", "--steps", "2", "--n", "16"], workspace), workspace, old


BACKGROUND["test_ctrl_c_during_overwrite_keeps_the_old_run_and_the_replacement"] = ctrl_c_during_overwrite
BACKGROUND["test_sigkill_during_overwrite_is_put_back_by_the_next_command"] = sigkill_during_overwrite


def test_ctrl_c_during_overwrite_keeps_the_old_run_and_the_replacement(background, request):
    code, err, workspace, old = background(request)
    assert code == 130 and "Traceback" not in err and "previous run is back" in err, err
    assert (workspace / "runs" / "keepme" / "checkpoint.safetensors").read_bytes() == old
    kept = [d for d in (workspace / "runs").iterdir() if d.name.startswith("keepme.replacement-")]
    assert len(kept) == 1 and (kept[0] / "checkpoint.safetensors").is_file() and kept[0].name in err
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]


def test_sigkill_during_overwrite_is_put_back_by_the_next_command(background, request):
    code, aside, r, workspace, old = background(request)
    assert code == -signal.SIGKILL
    assert aside
    assert r.returncode == 0, r.stderr
    assert "put back runs/killed" in r.stderr
    assert (workspace / "runs" / "killed" / "checkpoint.safetensors").read_bytes() == old
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]
    assert [d for d in (workspace / "runs").iterdir() if d.name.startswith("killed.replacement-")]


def test_a_refused_resume_changes_nothing(workspace, cli_env, cli):
    finished_run(workspace, "short")
    before = (workspace / "runs" / "short" / "config.toml").read_bytes()
    r = cli(["train", "--resume", "runs/short", "--steps", "50"], workspace, cli_env)
    assert r.returncode == 2 and "already at step 100 of 50" in r.stderr
    assert (workspace / "runs" / "short" / "config.toml").read_bytes() == before


def test_overwrite_of_a_symbolic_link_is_refused(workspace, cli_env, cli):
    import os

    finished_run(workspace, "target")
    os.symlink("target", workspace / "runs" / "link")
    r = cli(["train", "--config", "cfg.toml", "--name", "link", "--steps", "50", "--overwrite"], workspace, cli_env)
    assert r.returncode == 2 and "symbolic link" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (workspace / "runs" / "link").is_symlink()
    assert (workspace / "runs" / "target" / "checkpoint.safetensors").is_file()
    assert not [d for d in (workspace / "runs").iterdir() if ".replaced-" in d.name]
