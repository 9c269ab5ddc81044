"""End to end through real subprocesses: train -> sample (x3) -> bench -> plot on a tiny run.

The pipeline runs once per session, in the background (tests/cli/conftest.py); each test checks
one stage's results.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

N = 128
SAMPLE_EULER = ["sample", "tiny", "--solver", "euler", "--steps", "4", "--n", str(N), "--trajectories", "3"]
SAMPLE_TSIT5 = ["sample", "tiny", "--solver", "tsit5", "--rtol", "1e-2", "--n", str(N), "--trajectories", "3"]
BENCH = ["bench", "tiny", "--solvers", "euler,tsit5", "--steps", "4", "--tols", "1e-2", "--seeds", "2", "--n", str(N)]


# Run in this order in one directory, after `diffcli train -c tiny.toml --name tiny` (conftest.py
# starts the whole pipeline in the background when the suite is collected).
STAGES = [
    ("sample_euler", SAMPLE_EULER),
    ("sample_tsit5", SAMPLE_TSIT5),
    ("sample_euler_again", SAMPLE_EULER),
    ("grid_fit", ["grid", "fit", "tiny", "--solver", "euler", "--nfe", "2,3", "--draws", "64", "--candidates", "12",
                  "--refine", "1", "--json"]),
    ("sample_fitted", ["sample", "tiny", "--solver", "euler", "--steps", "3", "--grid", "fitted", "--n", "64", "--seed", "9",
                       "--json"]),
    ("bench_grids", ["bench", "tiny", "--solvers", "euler", "--steps", "", "--nfe", "2,3", "--tols", "", "--grids",
                     "uniform,edm,fitted", "--seeds", "1", "--n", "64", "--json"]),
    ("bench", BENCH),
    ("plot", ["plot", "tiny"]),
    ("sample_json", ["sample", "tiny", "--solver", "heun", "--steps", "3", "--n", "64", "--seed", "5", "--json"]),
    ("sample_quiet", ["sample", "tiny", "--solver", "heun", "--steps", "3", "--n", "64", "--seed", "6", "--quiet"]),
    ("reflow", ["reflow", "tiny", "--pairs", "256", "--solver", "euler", "--steps", "4", "--train-steps", "10",
                "--name", "tiny2", "--set", "train.chunk=10"]),
]


class Pipeline:
    def __init__(self, smoke):
        self.cwd, self.run, self.results, self.euler_first = smoke.cwd, smoke.run, smoke.results, smoke.euler_first

    def ok(self, stage: str) -> subprocess.CompletedProcess:
        r = self.results.get(stage)
        if r is None:
            pytest.fail(f"stage {stage!r} did not run (an earlier stage failed)")
        assert r.returncode == 0, f"{stage}: exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        assert "Traceback" not in r.stderr + r.stdout
        return r


@pytest.fixture(scope="module")
def pipeline(cli_jobs) -> Pipeline:
    return Pipeline(cli_jobs.smoke_result())


def _sample_files(run: Path, solver: str) -> tuple[Path, dict]:
    found = []
    for j in sorted((run / "samples").glob("*.json")):
        meta = json.loads(j.read_text())
        if meta.get("solver") == solver and meta.get("seed") == 0:
            found.append((j.with_suffix(".npy"), meta))
    assert len(found) == 1, f"expected one {solver} sample JSON, found {[str(f[0]) for f in found]}"
    return found[0]


def test_train_writes_the_run(pipeline):
    pipeline.ok("train")
    run = pipeline.run
    for name in ("config.toml", "run.json", "checkpoint.safetensors", "checkpoint.json", "metrics.jsonl",
                 "summary.json"):
        assert (run / name).is_file(), name
        assert (run / name).stat().st_size > 0, name


def test_train_config_toml_is_the_resolved_config(pipeline, tiny_cfg):
    from diffcli import config as C
    from diffcli.training.setup import resolve

    pipeline.ok("train")
    saved = C.load(pipeline.run / "config.toml")
    assert saved == resolve(tiny_cfg) and saved.network.name == "mlp"
    assert saved.model.options == {"source": "gaussian", "coupling": "independent", "coupling_block": 32,
                                   "coupling_epsilon": 0.01, "conditional": False, "label_dropout": 0.1}


def test_train_metadata(pipeline, tiny_cfg):
    pipeline.ok("train")
    run = pipeline.run
    steps, chunk = tiny_cfg.train.steps, tiny_cfg.train.chunk
    assert json.loads((run / "checkpoint.json").read_text())["step"] == steps
    summary = json.loads((run / "summary.json").read_text())
    assert summary["total_steps"] == steps and math.isfinite(summary["final_loss"])
    logged = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert logged == list(range(chunk, steps + 1, chunk))
    info = json.loads((run / "run.json").read_text())
    assert {"argv", "created", "diffcli", "jax", "python", "device"} <= set(info)
    assert "train" in info["argv"]


def _check_sample(pipeline, solver: str, traj_len: int | None):
    npy, meta = _sample_files(pipeline.run, solver)
    x = np.load(npy)
    assert x.shape == (N, 2) and x.dtype == np.float32
    assert np.isfinite(x).all()
    for key in ("nfe", "cd", "mmd2"):
        assert key in meta
    assert math.isfinite(meta["cd"]) and meta["cd"] > 0
    assert math.isfinite(meta["mmd2"])
    assert meta["n"] == N
    traj = np.load(npy.with_name(npy.stem + "-trajectories.npy"))
    times = np.load(npy.with_name(npy.stem + "-trajectory-times.npy"))
    assert traj.shape[0] == 3 and traj.shape[2] == 2 and traj.shape[1] == len(times)
    if traj_len is not None:
        assert len(times) == traj_len
    assert times[0] == pytest.approx(1.0) and times[-1] == pytest.approx(0.0)
    np.testing.assert_array_equal(traj[:, -1], x[:3])  # trajectories end at the saved samples
    return x, meta, traj


def test_sample_euler(pipeline):
    pipeline.ok("sample_euler")
    x, meta, traj = _check_sample(pipeline, "euler", traj_len=5)
    assert meta["nfe"] == 4 and meta["steps"] == 4


def test_sample_tsit5_adaptive(pipeline):
    pipeline.ok("sample_tsit5")
    x, meta, traj = _check_sample(pipeline, "tsit5", traj_len=None)
    assert meta["steps"] == meta["accepted_steps"] + meta["rejected_steps"] >= 1
    # FSAL: 6 new evaluations a step; before the first, f(x1) (its first stage too) and the
    # automatic first step's trial evaluation
    assert meta["nfe"] == 6 * meta["steps"] + 2


def test_sample_starts_from_the_prior_of_its_seed(pipeline):
    """The trajectories' first point is the source draw for the seed (rf: N(0, I))."""
    import jax

    from diffcli import config as C
    from diffcli.training.setup import build

    pipeline.ok("sample_euler")
    npy, _ = _sample_files(pipeline.run, "euler")
    traj = np.load(npy.with_name(npy.stem + "-trajectories.npy"))
    setup = build(C.load(pipeline.run / "config.toml"))
    prior = np.asarray(setup.process.prior_sample(jax.random.key(0), (N, 2)))
    np.testing.assert_allclose(traj[:, 0], prior[:3], rtol=1e-6, atol=1e-6)


def _brute_cd_mmd(a: np.ndarray, b: np.ndarray, sigma: float = 0.5) -> tuple[float, float]:
    a, b = a.astype(np.float64), b.astype(np.float64)
    d2 = lambda x, y: ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)  # noqa: E731
    ab = d2(a, b)
    cd = np.sqrt(ab.min(1)).mean() + np.sqrt(ab.min(0)).mean()
    k = lambda m: np.exp(-m / (2 * sigma**2)).mean()  # noqa: E731
    return float(cd), float(k(d2(a, a)) - 2 * k(ab) + k(d2(b, b)))


@pytest.mark.parametrize("solver", ["euler", "tsit5"])
def test_sample_scores_are_the_brute_force_metrics(pipeline, solver):
    """cd and mmd2 in the JSON are CD / MMD² of the saved samples against fresh data of the seed."""
    from diffcli import config as C
    from diffcli.scoring import reference_data
    from diffcli.training.setup import build

    pipeline.ok("sample_euler_again" if solver == "euler" else "sample_tsit5")
    npy, meta = _sample_files(pipeline.run, solver)
    setup = build(C.load(pipeline.run / "config.toml"))
    ref = np.asarray(reference_data(setup.dataset, N, 0))
    cd, mmd2 = _brute_cd_mmd(np.load(npy), ref)
    assert meta["cd"] == pytest.approx(cd, rel=1e-4)
    assert meta["mmd2"] == pytest.approx(mmd2, rel=1e-3, abs=1e-6)


def test_second_identical_sample_compiles_nothing(pipeline):
    pipeline.ok("sample_euler_again")
    npy, meta = _sample_files(pipeline.run, "euler")
    assert meta["compiles"]["cache_misses"] == 0, meta["compiles"]
    assert meta["compiles"]["cache_hits"] > 0
    np.testing.assert_array_equal(np.load(npy), pipeline.euler_first)  # same seed, same samples


def test_bench_writes_json_and_csv(pipeline):
    pipeline.ok("bench")
    b = json.loads((pipeline.run / "bench.json").read_text())
    rows = {r["label"]: r for r in b["rows"]}
    assert len(rows) == 3, list(rows)  # euler 4, tsit5 4, tsit5 adaptive 1e-2
    by_kind = {(r["solver"], r["steps"], r["tol"]): r for r in b["rows"]}
    assert by_kind[("euler", 4, None)]["nfe"] == 4
    assert by_kind[("tsit5", 4, None)]["nfe"] == 6 * 4 + 1  # FSAL: 6 a step + 1
    ad = by_kind[("tsit5", None, 1e-2)]
    assert ad["nfe_min"] <= ad["nfe"] <= ad["nfe_max"] and (ad["nfe_min"] - 2) % 6 == 0
    for r in b["rows"]:
        assert math.isfinite(r["cd"]) and r["cd"] > 0 and r["cd_sd"] >= 0 and math.isfinite(r["mmd2"])
    assert b["meta"]["seeds"] == 2 and b["meta"]["n"] == N
    assert math.isfinite(b["floor"]["cd"]) and b["floor"]["cd"] > 0
    assert [r["nfe"] for r in b["rows"]] == sorted(r["nfe"] for r in b["rows"])

    for r in b["rows"]:  # the values of each seed, and their sample standard deviation
        assert len(r["cd_seeds"]) == 2 and r["cd"] == pytest.approx(np.mean(r["cd_seeds"]))
        assert r["cd_sd"] == pytest.approx(np.std(r["cd_seeds"], ddof=1))

    import csv

    rows = list(csv.DictReader((pipeline.run / "bench.csv").read_text().splitlines()))
    assert {"label", "solver", "nfe", "cd", "mmd2", "cd_seeds", "floor_cd", "floor_cd_sd"} <= set(rows[0])
    assert len(rows) == 3 and all(r["label"] != "data floor" for r in rows)  # the floor is in columns
    assert float(rows[0]["floor_cd"]) == pytest.approx(b["floor"]["cd"])


def test_plot_writes_pngs_and_gif(pipeline):
    pipeline.ok("plot")
    plots = pipeline.run / "plots"
    pngs = sorted(plots.glob("*.png"))
    assert {"samples.png", "trajectories.png", "loss.png", "bench.png"} <= {p.name for p in pngs}
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
    gif = plots / "flow.gif"
    assert gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames > 1


def test_no_temporary_files_are_left_behind(pipeline):
    pipeline.ok("plot")
    leftovers = [p for p in pipeline.run.rglob("*") if ".tmp" in p.name]
    assert not leftovers, leftovers


def test_progress_lines_when_not_a_terminal(pipeline):
    """Piped (as here) a command prints one plain progress line per chunk or setting on stderr,
    with a count; the bench's rows are not printed twice."""
    train, bench = pipeline.ok("train"), pipeline.ok("bench")
    assert "train 10/20 steps" in train.stderr and "train 20/20 steps" in train.stderr
    assert "bench 1/3 settings" in bench.stderr and "bench 3/3 settings" in bench.stderr
    table, best = bench.stdout.split("best at each budget")
    assert table.count("euler 4") == 1  # the table's row only (no progress line on stdout)
    assert "NFE ≤" in best


def test_fitted_grids_are_saved_and_used(pipeline):
    """grid fit writes one grid per budget into grids.json; sample and bench use them with
    --grid fitted (the very times saved), beside the named grids."""
    fits = json.loads(pipeline.ok("grid_fit").stdout)
    assert [f["steps"] for f in fits] == [2, 3] and [f["nfe"] for f in fits] == [2, 3]
    for f in fits:
        assert f["error"] <= f["error_start"] + 1e-7  # the descent never ends worse than it began
        assert f["times"][0] == 1.0 and f["times"][-1] == 0.0 and len(f["times"]) == f["steps"] + 1
    saved = json.loads((pipeline.run / "grids.json").read_text())["fits"]
    assert [f["times"] for f in saved] == [f["times"] for f in fits]
    s = json.loads(pipeline.ok("sample_fitted").stdout)
    assert s["plan"]["grid"] == "fitted" and s["plan"]["grid_times"] == fits[1]["times"] and s["nfe"] == 3
    b = json.loads(pipeline.ok("bench_grids").stdout)
    assert sorted((r["grid"], r["steps"]) for r in b["rows"]) == sorted(
        (g, k) for g in ("uniform", "edm^7", "fitted") for k in (2, 3))
    assert [x["budget"] for x in b["best"]] == [4, 6, 8, 10, 16, 20]  # every budget at or above NFE 2
    best = min(b["rows"], key=lambda r: r["cd"])
    assert b["best"][-1]["cd"] == best["cd"] and b["best"][-1]["above_plateau"] == 0


def test_reflow_makes_a_child_run(pipeline):
    r = pipeline.ok("reflow")
    child = pipeline.run.parent / "tiny2"
    info = json.loads((child / "run.json").read_text())["reflow"]
    assert info["k"] == 2 and info["pairs"]["n"] == 256 and info["pairs"]["nfe"] == 4
    assert (child / "pairs.safetensors").is_file() and (child / "checkpoint.safetensors").is_file()
    assert "reflowed" in r.stdout and "NFE 4" in r.stdout


def test_json_prints_the_record_written(pipeline):
    r = pipeline.ok("sample_json")
    record = json.loads(r.stdout)
    written = list((pipeline.run / "samples").glob("*-seed5.json"))
    assert len(written) == 1 and json.loads(written[0].read_text()) == record
    assert record["n"] == 64 and record["solver"] == "heun" and record["weights"] == "ema"


def test_quiet_prints_nothing(pipeline):
    r = pipeline.ok("sample_quiet")
    assert r.stdout == "" and r.stderr == ""
    assert list((pipeline.run / "samples").glob("*-seed6.npy"))


@pytest.mark.parametrize("args", [["--version"], ["-h"], ["sample", "-h"]])
def test_conventions(cli, cli_env, tmp_path, args):
    r = cli(args, tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    assert ("diffcli 0.1" in r.stdout) if args == ["--version"] else ("Usage" in r.stdout and "Examples" in r.stdout
                                                                       or args == ["-h"])


def test_flags_show_no_value_in_help(cli, cli_env, tmp_path):
    r = cli(["train", "--help"], tmp_path, cli_env)
    line = next(x for x in r.stdout.splitlines() if "--overwrite" in x)
    assert "<bool>" not in line


def test_shell_completion_names_registry_entries():
    from diffcli.cli import MODELS, SOLVERS

    assert "dpm++2m" in SOLVERS("dpm") and SOLVERS("euler,he") == ["euler,heun"]
    assert MODELS("vp") == ["vpsde"]


def test_help(cli, cli_env, tmp_path):
    r = cli(["--help"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    for cmd in ("train", "sample", "bench", "plot"):
        assert cmd in r.stdout
    assert not any(tmp_path.iterdir())


def test_list_shows_every_registry(cli, cli_env, tmp_path):
    from diffcli.catalogue import KINDS
    from diffcli.metrics import METRICS
    from diffcli.processes import PROCESSES
    from diffcli.sampling.registry import SAMPLERS

    r = cli(["list"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    for word in [*KINDS, *SAMPLERS.names(), *PROCESSES.names(), *METRICS.names()]:
        assert word in r.stdout, word


@pytest.mark.parametrize("cmd", ["train", "sample", "bench", "plot", "list"])
def test_command_help(cli, cli_env, tmp_path, cmd):
    r = cli([cmd, "--help"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    assert "--help" in r.stdout
