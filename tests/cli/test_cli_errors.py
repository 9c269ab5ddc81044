"""Bad input through real subprocesses: exit code 2, one `error:` line on stderr, no traceback,
and nothing written.

Every case runs in its own workspace (a copy of a trained tiny run plus config files); conftest.py
runs the selected cases in the background, and each test checks one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

TRAIN = ["train", "-c", "tiny.toml"]


@dataclass(frozen=True)
class Case:
    id: str
    args: list
    words: tuple = ()  # must appear in the error line


CASES = [
    # unknown names
    Case("unknown-model", TRAIN + ["-m", "nosuchmodel"], ("nosuchmodel", "rf")),
    Case("unknown-data", TRAIN + ["-d", "nosuchdata"], ("nosuchdata", "cat")),
    Case("unknown-activation", TRAIN + ["--set", "network.activation=swish"], ("swish", "gelu")),
    Case("unknown-solver", ["sample", "tiny", "--solver", "rk9"], ("rk9", "euler")),
    Case("unknown-grid", ["sample", "tiny", "--grid", "zigzag"], ("zigzag",)),
    # step counts, sample counts, tolerances
    Case("steps-0", ["sample", "tiny", "--steps", "0"], ("--steps",)),
    Case("steps-negative", ["sample", "tiny", "--steps", "-3"], ("--steps",)),
    Case("steps-abc", ["sample", "tiny", "--steps", "abc"], ("--steps",)),
    Case("n-0", ["sample", "tiny", "--n", "0"], ("--n",)),
    Case("rtol-2", ["sample", "tiny", "--solver", "tsit5", "--rtol", "2"], ("rtol",)),
    Case("rtol-0", ["sample", "tiny", "--solver", "tsit5", "--rtol", "0"], ("rtol",)),
    Case("atol-0", ["sample", "tiny", "--solver", "tsit5", "--atol", "0"], ("atol",)),
    Case("steps-and-rtol", ["sample", "tiny", "--solver", "tsit5", "--steps", "5", "--rtol", "1e-3"],
         ("--steps", "--rtol")),
    Case("tolerance-on-euler", ["sample", "tiny", "--solver", "euler", "--rtol", "1e-3"], ("euler",)),
    Case("negative-seed", ["sample", "tiny", "--seed", "-1"], ("--seed",)),
    # runs
    Case("missing-run", ["sample", "nosuchrun"], ("nosuchrun",)),
    Case("run-without-checkpoint", ["sample", "runs/nockpt"], ("nockpt", "checkpoint")),
    Case("plot-missing-run", ["plot", "nosuchrun"], ("nosuchrun",)),
    Case("existing-run-name", TRAIN + ["--name", "tiny"], ("tiny", "--overwrite")),
    # configs
    Case("config-unknown-key", ["train", "-c", "bad_key.toml"], ("train.stepz",)),
    Case("config-wrong-type", ["train", "-c", "bad_type.toml"], ("train.steps",)),
    Case("config-syntax-error", ["train", "-c", "bad_syntax.toml"], ("bad_syntax.toml", "TOML")),
    Case("config-missing", ["train", "-c", "missing.toml"], ("missing.toml",)),
    Case("set-unknown-key", TRAIN + ["--set", "train.stepz=3"], ("train.stepz",)),
    Case("set-malformed", TRAIN + ["--set", "stepz"], ("section.key=value",)),
    Case("train-steps-0", TRAIN + ["--steps", "0"], ("train.steps",)),
    # bench
    Case("bench-unknown-solver", ["bench", "tiny", "--solvers", "euler,rk9"], ("rk9",)),
    Case("bench-seeds-0", ["bench", "tiny", "--seeds", "0"], ("--seeds",)),
    Case("bench-steps-abc", ["bench", "tiny", "--steps", "4,abc"], ("--steps",)),
    # usage
    Case("unknown-command", ["sampel", "tiny"], ("sampel",)),
    Case("unknown-option", ["sample", "tiny", "--bogus"], ("--bogus",)),
    # bugs found and fixed
    Case("config-unknown-section", ["train", "-c", "bad_section.toml"], ("trian",)),
    Case("data-file-missing", TRAIN + ["-d", "missing.npy"], ("missing.npy",)),
    Case("run-name-is-a-file", TRAIN + ["--name", "afile"], ("afile",)),
    Case("bench-nothing-to-run", ["bench", "tiny", "--solvers", "euler", "--steps", ""], ("euler",)),
    Case("grid-power-0", ["sample", "tiny", "--grid", "power", "--grid-power", "0", "--steps", "4", "--n", "64"],
         ("grid",)),
    # options belong to their entry
    Case("process-option-it-lacks", TRAIN + ["--set", "model.sigma_max=-5"], ("model.sigma_max", "model.source")),
    Case("process-option-for-another", TRAIN + ["--model", "vpsde", "--set", "model.source=uniform-square"],
         ("model.source", "vpsde")),
    Case("network-option-it-lacks", TRAIN + ["--set", "network.channels=[8]"], ("network.channels", "network.width")),
    Case("solver-option-it-lacks", ["sample", "tiny", "--solver", "euler", "--eta", "0.5"], ("--eta", "euler", "ddim")),
    Case("solver-option-bad-value", ["bench", "tiny", "--solvers", "euler", "--steps", "4", "--foo"], ("--foo",)),
    Case("unknown-metric", ["sample", "tiny", "--metrics", "cd,fid"], ("fid", "mmd2")),
    Case("stray-argument", ["sample", "tiny", "extra"], ("extra",)),
    Case("list-unknown-kind", ["list", "wizards"], ("wizards", "solvers")),
    # issue 8: names, paths, seeds and sizes
    Case("name-empty", TRAIN + ["--name", ""], ("--name",)),
    Case("name-newline", TRAIN + ["--name", "a\nb"], ("control character",)),
    Case("name-too-long", TRAIN + ["--name", "x" * 300], ("at most 200",)),
    Case("runs-dir-is-a-file", TRAIN + ["--runs-dir", "runs/afile"], ("runs/afile", "is a file")),
    Case("seed-huge-sample", ["sample", "tiny", "--seed", "99999999999999999999"], ("--seed", "4294967295")),
    Case("seed-aliasing-train", TRAIN + ["--seed", "99999999999"], ("train.seed", "4294967295")),
    Case("seed-huge-likelihood", ["likelihood", "tiny", "--seed", "99999999999999999999"], ("--seed",)),
    Case("n-huge", ["sample", "tiny", "--n", "1000000000"], ("--n", "1000000")),
    Case("steps-huge", ["sample", "tiny", "--solver", "euler", "--steps", "1000000000", "--n", "10"], ("--steps", "100000")),
    Case("bench-steps-huge", ["bench", "tiny", "--steps", "99999999999999999999"], ("--steps",)),
    Case("grid-power-inf", ["sample", "tiny", "--grid-power", "inf"], ("--grid-power",)),
    Case("grid-power-huge", ["sample", "tiny", "--grid-power", "1e308"], ("--grid-power",)),
    Case("grid-power-tiny", ["sample", "tiny", "--grid-power", "1e-300"], ("--grid-power",)),
    Case("icoeff-nan", ["sample", "tiny", "--solver", "tsit5", "--rtol", "1e-3", "--icoeff", "nan"], ("--icoeff",)),
    Case("pcoeff-huge", ["sample", "tiny", "--solver", "tsit5", "--rtol", "1e-3", "--pcoeff", "-1e308"], ("--pcoeff",)),
    Case("snr-inf", ["sample", "tiny", "--solver", "pc", "--snr", "inf"], ("--snr",)),
    Case("noise-nan", TRAIN + ["--set", "data.noise=nan"], ("data.noise",)),
    Case("noise-inf", TRAIN + ["--set", "data.noise=inf"], ("data.noise",)),
    Case("lr-inf", TRAIN + ["--set", "train.lr=inf"], ("train.lr",)),
    Case("lr-huge", TRAIN + ["--set", "train.lr=1e308"], ("train.lr",)),
    Case("clip-nan", TRAIN + ["--set", "train.clip=nan"], ("train.clip",)),
    Case("final-lr-nan", TRAIN + ["--set", "train.final_lr=nan"], ("train.final_lr",)),
    Case("checkpoint-every-negative", TRAIN + ["--set", "train.checkpoint_every=-5"], ("train.checkpoint_every",)),
    Case("keep-negative", TRAIN + ["--set", "train.keep=-1"], ("train.keep",)),
    Case("grid-power-config-inf", TRAIN + ["--set", "sample.grid_power=inf"], ("sample.grid_power",)),
    Case("warmup-above-steps", TRAIN + ["--set", "train.warmup=50"], ("train.warmup", "train.steps")),
    Case("complex-data", TRAIN + ["-d", "complex.npy"], ("complex",)),
    Case("huge-data", TRAIN + ["-d", "huge.npy"], ("float32",)),
    Case("empty-csv", TRAIN + ["-d", "empty.csv"], ("empty",)),
    Case("resume-steps-below-done", ["train", "--resume", "runs/tiny", "--steps", "5"], ("already at step 20 of 5",)),
    Case("options-before-run", ["sample", "--eta", "0.5", "tiny"], ("the run comes before",)),
    # time grids and their fitting
    Case("fitted-none", ["sample", "tiny", "--solver", "heun", "--steps", "7", "--grid", "fitted"],
         ("no fitted grid", "diffcli grid fit", "--nfe 14")),
    Case("grid-rho-0", ["sample", "tiny", "--grid", "edm", "--grid-rho", "0"], ("--grid-rho",)),
    Case("bench-unknown-grid", ["bench", "tiny", "--grids", "power,zigzag"], ("zigzag", "uniform")),
    Case("bench-fitted-none", ["bench", "tiny", "--solvers", "euler", "--steps", "3", "--grids", "fitted"],
         ("no fitted grid",)),
    Case("fit-stochastic", ["grid", "fit", "tiny", "--solver", "euler-maruyama"], ("deterministic",)),
    Case("fit-budget-too-small", ["grid", "fit", "tiny", "--solver", "heun", "--nfe", "1"], ("NFE 1", "heun", "2")),
    Case("fit-objective", ["grid", "fit", "tiny", "--objective", "fid"], ("fid", "chamfer")),
    Case("fit-draws", ["grid", "fit", "tiny", "--draws", "0"], ("--draws",)),
    Case("fit-past-t0", ["grid", "fit", "tiny", "--solver", "ddim"], ("ddim",)),
    # couplings and reflow (the rest of their refusals: tests/training/test_couplings.py, test_reflow.py)
    Case("unknown-coupling", TRAIN + ["--set", "model.coupling=emd"], ("emd", "ot", "sinkhorn")),
    Case("reflow-pairs-0", ["reflow", "tiny", "--pairs", "0"], ("--pairs",)),
    Case("reflow-existing-name", ["reflow", "tiny", "--name", "tiny", "--pairs", "64", "--solver", "euler",
                                  "--steps", "2"], ("tiny", "--overwrite")),
    Case("distill-without-pairs", TRAIN + ["--set", "train.distill=true"], ("train.distill", "train.pairs")),
]

CONFIG_FILES = {
    "bad_key.toml": "[train]\nstepz = 5\n",
    "bad_type.toml": '[train]\nsteps = "many"\n',
    "bad_syntax.toml": "[train\nsteps = 3\n",
    "bad_section.toml": "[trian]\nsteps = 3\n",
}


def make_workspace(root: Path, run_dir: Path, tiny_toml: str) -> Path:
    """A scratch directory: runs/tiny (a trained run), runs/nockpt (no checkpoint), a file
    runs/afile, a valid tiny.toml and the bad configs. Called by conftest.py for every case."""
    root.mkdir(parents=True)
    shutil.copytree(run_dir, root / "runs" / "tiny")
    (root / "runs" / "nockpt").mkdir()
    shutil.copy(run_dir / "config.toml", root / "runs" / "nockpt" / "config.toml")
    (root / "runs" / "afile").write_text("not a run\n")
    (root / "tiny.toml").write_text(tiny_toml)
    for name, text in CONFIG_FILES.items():
        (root / name).write_text(text)
    import numpy as np

    np.save(root / "complex.npy", np.array([[1 + 2j, 3.0]] * 4))
    np.save(root / "huge.npy", np.array([[1e300, 0.0]] * 4))
    (root / "empty.csv").write_text("")
    return root


PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(cli_jobs, case):
    o = cli_jobs.error_result(case.id)
    out, err = o.proc.stdout, o.proc.stderr
    assert "Traceback" not in out + err, err
    assert o.proc.returncode == 2, f"exit {o.proc.returncode}; stderr: {err!r}"
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, f"stderr is not one line: {err!r}"
    assert lines[0].startswith("error:"), lines[0]
    for w in case.words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    created = sorted(set(o.after) - set(o.before))
    removed = sorted(set(o.before) - set(o.after))
    changed = sorted(k for k in set(o.before) & set(o.after) if o.before[k] != o.after[k])
    assert not (created or removed or changed), f"written: {created}, removed: {removed}, changed: {changed}"
