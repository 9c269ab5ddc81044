"""`diffcli bench`: every solver setting over several sampling seeds, scored against the data floor.

Each setting compiles once (a fixed-step count or the adaptive program) and is reused across
seeds; timings are medians over seeds of the compiled call alone.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import jax
import numpy as np

from diffcli.metrics import evaluate
from diffcli.runs import write_json, write_text
from diffcli.sampling.api import reference_data, sampler_for, score, weights
from diffcli.sampling.plan import SolverPlan, make_plan
from diffcli.sampling.samplers import SAMPLERS, check_fits
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState

FLOOR_SALT = 0xF100  # second, independent data draw for the floor


@dataclass(frozen=True)
class BenchRow:
    label: str
    name: str  # short label for tables
    solver: str
    steps: int | None  # fixed steps, or None for adaptive
    tol: float | None
    nfe: float  # mean over seeds (adaptive NFE can vary with the seed)
    nfe_min: int
    nfe_max: int
    cd: float
    cd_sd: float
    mmd2: float
    mmd2_sd: float
    ms_per_call: float  # median over seeds
    ms_per_nfe: float
    compile_s: float


@dataclass(frozen=True)
class Floor:
    cd: float
    cd_sd: float
    mmd2: float
    mmd2_sd: float
    pairs: int


def plans(solvers: list[str], steps: list[int], tols: list[float], options: dict | None = None,
          **plan_kw) -> list[SolverPlan]:
    """Every fixed-step count for every solver, and every tolerance for the adaptive ones.
    `options` (eta, snr, …; None = not given) go to the solvers that read them."""
    out = []
    for name in solvers:
        spec = SAMPLERS.get(name)
        kw = {**plan_kw, **{k: v for k, v in (options or {}).items() if v is not None and k in spec.options}}
        out += [make_plan(name, steps=s, **kw) for s in steps]
        if spec.adaptive:
            out += [make_plan(name, rtol=t, atol=t, **kw) for t in tols]
    return out


def data_floor(setup: Setup, n: int, seeds: int) -> Floor:
    """CD and MMD² between two independent n-point data draws, over `seeds` pairs."""
    cds, mmds = [], []
    for s in range(seeds):
        a = reference_data(setup, n, s)
        b = setup.dataset.sample(jax.random.fold_in(jax.random.key(s), FLOOR_SALT), n)
        m = evaluate(a, b)
        cds.append(m["cd"])
        mmds.append(m["mmd2"])
    return Floor(float(np.mean(cds)), float(np.std(cds)), float(np.mean(mmds)), float(np.std(mmds)), seeds)


def run_bench(
    setup: Setup,
    state: TrainState,
    plan_list: list[SolverPlan],
    seeds: int,
    n: int,
    use_ema: bool | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
) -> tuple[list[BenchRow], Floor]:
    params = weights(setup, state, use_ema)
    rows = []
    # One compiled program per fixed-step setting; adaptive tolerances are arguments, so all
    # tolerances of one solver share one program (keyed by the plan without its tolerances).
    samplers: dict[SolverPlan, Callable] = {}
    for plan in plan_list:
        t = time.perf_counter()
        key = replace(plan, rtol=None, atol=None)
        if key not in samplers:
            samplers[key] = sampler_for(setup, plan, n)
        scored = [score(setup, samplers[key](params, s, plan.rtol, plan.atol), s) for s in range(seeds)]
        total = time.perf_counter() - t
        nfes = [x.result.nfe for x in scored]
        secs = [x.result.seconds for x in scored]
        cds = [x.cd for x in scored]
        mmds = [x.mmd2 for x in scored]
        ms = 1e3 * float(np.median(secs))
        row = BenchRow(
            label=plan.label(), name=plan.label(short=True), solver=plan.solver, steps=plan.steps, tol=plan.rtol,
            nfe=float(np.mean(nfes)), nfe_min=min(nfes), nfe_max=max(nfes),
            cd=float(np.mean(cds)), cd_sd=float(np.std(cds)), mmd2=float(np.mean(mmds)), mmd2_sd=float(np.std(mmds)),
            ms_per_call=ms, ms_per_nfe=1e3 * float(np.median([s / f for s, f in zip(secs, nfes)])),
            compile_s=total - sum(secs),
        )
        rows.append(row)
        if on_row:
            on_row(row)
    rows.sort(key=lambda r: (r.nfe, r.cd))
    return rows, data_floor(setup, n, seeds)


def save_bench(run_dir: Path, rows: list[BenchRow], floor: Floor, meta: dict) -> None:
    write_json(Path(run_dir) / "bench.json", {"meta": meta, "floor": asdict(floor), "rows": [asdict(r) for r in rows]})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(asdict(rows[0]).keys()) if rows else ["label"])
    w.writeheader()
    for r in rows:
        w.writerow(asdict(r))
    w.writerow({"label": "data floor", "cd": floor.cd, "cd_sd": floor.cd_sd, "mmd2": floor.mmd2, "mmd2_sd": floor.mmd2_sd})
    write_text(Path(run_dir) / "bench.csv", buf.getvalue())


def bench_run(run, solvers: list[str], steps: list[int], tols: list[float], seeds: int, n: int,
              use_ema: bool | None = None, on_row=None, options: dict | None = None, **plan_kw):
    """Load a run, bench every setting, write bench.json/bench.csv; returns (run_dir, rows, floor)."""
    from diffcli.errors import DiffcliError
    from diffcli.training.restore import load_run

    if seeds <= 0 or n <= 0:
        raise DiffcliError(f"--seeds and --n must be positive integers, got {seeds} and {n}")
    plan_list = plans(solvers, steps, tols, options, **plan_kw)  # checks every name and number first
    if not plan_list:
        raise DiffcliError(f"nothing to bench for solvers {', '.join(solvers)}: give --steps for fixed-step "
                           "solvers or --tols for adaptive ones")
    run_dir, setup, state = load_run(run)
    for p in plan_list:  # a solver that does not fit the model fails before anything runs
        check_fits(p, setup.process)
    rows, floor = run_bench(setup, state, plan_list, seeds, n, use_ema, on_row)
    save_bench(run_dir, rows, floor, {"seeds": seeds, "n": n, "use_ema": use_ema, **plan_kw})
    return run_dir, rows, floor
