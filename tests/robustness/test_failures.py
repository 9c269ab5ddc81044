"""Failures stop loudly and keep what was good: non-finite loss, solver failure, bad run dirs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffcli.errors import DiffcliError, SolverError


@pytest.fixture(scope="module")
def sampled_run(tiny_run, tmp_path_factory):
    """A copy of the tiny run holding the samples a default `plot` draws (its solver, steps, n,
    seed and trajectories) but no plots: a plot of a copy of it draws them from samples/ instead
    of compiling a sampler again. The tests below are about what plot does around the samples."""
    import shutil

    from diffcli.plot import PLOT_SEED, PLOT_STEPS
    from diffcli.sampling.api import plan_for, sample_loaded
    from diffcli.training.restore import load_run

    run = tmp_path_factory.mktemp("sampled") / "run"
    shutil.copytree(tiny_run.run_dir, run)
    run, setup, state = load_run(run)
    n = setup.cfg.sample.n
    sample_loaded(run, setup, state, plan_for(setup, None, PLOT_STEPS, run_dir=run), n, PLOT_SEED, trajectories=n)
    return run


def diverging(tmp_path) -> None:
    """A config whose loss overflows float32 in its first chunk: data at 1e30 (within float32's
    range, so the file is accepted; its squared error is not)."""
    np.save(tmp_path / "far.npy", np.full((64, 2), 1e30, np.float32))
    (tmp_path / "c.toml").write_text(
        '[data]\nname = "far.npy"\n[network]\nwidth = 16\ndepth = 1\n[train]\nsteps = 400\nbatch = 32\nchunk = 20\n'
        "checkpoint_every = 0\n"
    )


# The tests that only run `diffcli` and check what it did run it in the background from the start
# of the session (tests/conftest.py Jobs); each job returns what its test checks.


def diverging_training(job):
    diverging(job.dir)
    return job.cli(["train", "--config", "c.toml", "--name", "boom"], job.dir), job.dir


def plot_without_bench(job):
    job.tiny_run(job.dir / "runs" / "nobench")
    return job.cli(["plot", "runs/nobench"], job.dir), job.dir


def overwrite_that_fails(job):
    before = (job.tiny_run(job.dir / "runs" / "keep") / "checkpoint.safetensors").read_bytes()
    diverging(job.dir)
    return job.cli(["train", "--config", "c.toml", "--name", "keep", "--overwrite"], job.dir), job.dir, before


BACKGROUND = {"test_nan_loss_stops_names_step_keeps_checkpoint": diverging_training,
              "test_plot_without_bench_plots_what_exists_and_names_the_rest": plot_without_bench,
              "test_overwrite_that_fails_puts_the_old_run_back": overwrite_that_fails}


def test_nan_loss_stops_names_step_keeps_checkpoint(background, request):
    r, tmp_path = background(request)
    assert r.returncode == 3, r.stderr
    assert "at step" in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    ck = json.loads((tmp_path / "runs" / "boom" / "checkpoint.json").read_text())
    assert ck["step"] < 400  # the last good one, not a NaN state
    from safetensors.numpy import load

    t = load((tmp_path / "runs" / "boom" / "checkpoint.safetensors").read_bytes())
    assert all(np.isfinite(v).all() for k, v in t.items() if v.dtype.kind == "f")


def test_adaptive_step_limit_is_an_error_not_nan(tiny_run):
    from diffcli.sampling.api import sampler_for, weights
    from diffcli.sampling.plan import make_plan

    plan = make_plan("tsit5", rtol=1e-7, atol=1e-7, max_steps=3)
    with pytest.raises(SolverError, match="tsit5.*(step limit|max_steps)"):
        sampler_for(tiny_run.setup, plan, 64)(weights(tiny_run.setup, tiny_run.state), 0)


def test_same_name_is_not_overwritten_and_default_names_do_not_collide(tmp_path):
    from diffcli.runs import new_run_dir

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "keep.txt").write_text("x")
    with pytest.raises(DiffcliError, match="--overwrite"):
        new_run_dir(tmp_path, "a", "rf-cat", overwrite=False)
    first = new_run_dir(tmp_path, None, "rf-cat", overwrite=False)
    first.mkdir()
    assert new_run_dir(tmp_path, None, "rf-cat", overwrite=False) != first
    assert (tmp_path / "a" / "keep.txt").read_text() == "x"


def test_foreign_files_in_runs_do_not_break_other_runs(sampled_run, tmp_path):
    """Garbage beside a run (and a corrupt bench.json in it) does not break plotting it."""
    import shutil

    from diffcli.plot import plot_run

    root = tmp_path / "runs"
    run = root / "good"
    shutil.copytree(sampled_run, run)
    (root / "junk.txt").write_text("not a run")
    (root / "broken").mkdir()
    (root / "broken" / "checkpoint.safetensors").write_bytes(b"\x00garbage")
    (root / "notarun").mkdir()
    (root / "notarun" / "checkpoint.safetensors").write_bytes(b"")
    (run / "bench.json").write_text("{ truncated")
    made, missing = plot_run(run)
    assert {p.name for p in made} >= {"samples.png", "trajectories.png", "flow.gif", "loss.png"}
    assert any("bench.png" in m and "unreadable" in m for m in missing)
    shutil.copy(run / "config.toml", root / "broken" / "config.toml")
    with pytest.raises(DiffcliError, match="unreadable"):
        plot_run(root / "broken")
    with pytest.raises(DiffcliError, match="not a diffcli run"):
        plot_run(root / "notarun")


def test_plot_without_bench_plots_what_exists_and_names_the_rest(background, request):
    r, tmp_path = background(request)
    assert r.returncode == 0, r.stderr
    assert "no bench yet" in r.stdout and "diffcli bench" in r.stdout
    assert (tmp_path / "runs" / "nobench" / "plots" / "samples.png").is_file()
    assert not (tmp_path / "runs" / "nobench" / "plots" / "bench.png").exists()


def test_overwrite_that_fails_puts_the_old_run_back(background, request):
    r, tmp_path, before = background(request)
    assert r.returncode == 3, r.stderr  # the new training diverged
    assert (tmp_path / "runs" / "keep" / "checkpoint.safetensors").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["keep"]


def test_plot_picks_a_solver_the_model_accepts(tiny_cfg, tmp_path):
    """A bridge with the uniform-square source has only its exact posterior steps; plot uses them
    (it used to ask for heun and fail)."""
    from dataclasses import replace

    from diffcli.plot import plot_run
    from diffcli.training.api import train_run

    cfg = replace(tiny_cfg, model=type(tiny_cfg.model)(process="bridge", options={"source": "uniform-square"}),
                  train=replace(tiny_cfg.train, steps=10))
    run_dir, _ = train_run(cfg, tmp_path / "runs", "bridge")
    made, missing = plot_run(run_dir)
    assert {p.name for p in made} >= {"samples.png", "trajectories.png", "flow.gif"}


def test_plot_skips_malformed_metrics_lines(sampled_run, tmp_path):
    """A torn or foreign line in metrics.jsonl is skipped; every plot is still written."""
    import shutil

    from diffcli.plot import plot_run

    run = tmp_path / "run"
    shutil.copytree(sampled_run, run)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('[1, 2]\n{"step": "x", "loss": 1}\n{"step": 3}\n{"ste\n"null"\n')
    made, missing = plot_run(run)
    assert {p.name for p in made} >= {"samples.png", "trajectories.png", "flow.gif", "loss.png"}


def ctrl_c_during_a_bench(job):
    import signal
    import time

    run = job.tiny_run(job.dir / "runs" / "b")
    (run / "bench.json").write_text('{"previous": true}\n')
    p = job.start_cli(["bench", "runs/b", "--solvers", "euler,heun", "--steps", "100,200,300,400,500", "--tols", "",
                       "--seeds", "3", "--n", "2000"], job.dir)
    first = p.stderr.readline()  # the first setting's progress line: the bench is under way
    if "bench 1/10 settings" not in first:
        p.kill()
        return first, p.communicate()[1], None, run
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    return first, err, p.returncode, run


BACKGROUND["test_ctrl_c_stops_a_bench_and_keeps_the_previous_one"] = ctrl_c_during_a_bench


def test_ctrl_c_stops_a_bench_and_keeps_the_previous_one(background, request):
    first, err, returncode, run = background(request)
    assert "bench 1/10 settings" in first, first + err
    assert returncode == 130, err
    assert "Traceback" not in err and "previous bench.json and bench.csv are kept" in err
    assert (run / "bench.json").read_text() == '{"previous": true}\n' and not (run / "bench.csv").exists()


def test_plot_options_reuse_samples_and_write_the_format(tiny_run, tmp_path):
    """--solver/--steps/--n/--format/--out; a second plot reuses the samples the first saved."""
    import shutil

    from diffcli.plot import pareto_front, plot_run

    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    made, _ = plot_run(run, "euler", 3, 32, "svg", tmp_path / "figs")
    assert {p.name for p in made} >= {"samples.svg", "trajectories.svg", "flow.gif", "loss.svg"}
    saved = sorted((run / "samples").glob("euler_3_steps*-n32-seed0*"))
    assert len(saved) == 4  # samples, trajectories, their times, the JSON
    stamps = [p.stat().st_mtime_ns for p in saved]
    plot_run(run, "euler", 3, 32, "png", tmp_path / "figs")
    assert [p.stat().st_mtime_ns for p in saved] == stamps  # reused, not sampled again
    assert pareto_front([(10, 0.5), (20, 0.6), (20, 0.4), (40, 0.45), (5, 0.9)]) == [(5, 0.9), (10, 0.5), (20, 0.4)]
