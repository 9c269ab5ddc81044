"""`diffcli bench`: every solver setting over several sampling seeds, scored against the data floor.

Each setting compiles once (a fixed-step count or the adaptive program) and is reused across
seeds; timings are medians over seeds of the compiled call alone. Rows carry the selected
metrics by name (mean and spread over seeds); bench.json and bench.csv hold them flat
(`cd`, `cd_sd`, `mmd2`, `mmd2_sd`, …).
"""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from diffcli.conditioning import Guide, check_guidance, check_guide_trained
from diffcli.errors import DiffcliError
from diffcli.limits import MAX_SEEDS, check_count, check_points
from diffcli.metrics import DEFAULT_METRICS, METRICS, check_fit, check_names
from diffcli.runs import write_json, write_text
from diffcli.sampling.api import sampler_for, weights
from diffcli.sampling.plan import SolverPlan, make_plan
from diffcli.sampling.registry import SAMPLERS, check_fits, flag, option_names, option_takers
from diffcli.scoring import Floor, bandwidth, data_floor, floor_cache_key, score, spread
from diffcli.signals import caught_signals, stop_if_signalled
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState


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
    scores: dict[str, float]  # {metric: mean over seeds}
    sds: dict[str, float]  # {metric: sample standard deviation over seeds (NaN for one seed)}
    per_seed: dict[str, list[float]]  # {metric: the value of each seed}
    ms_per_call: float  # median over seeds
    ms_per_nfe: float
    compile_s: float
    variant: str = ""  # the solver's options as in labels ("eta 0.5"; "" when it has none)
    grid: str = ""  # the time grid as in labels ("power^1.5", "fitted", "uniform"; "" for adaptive solves)
    guidance: float | None = None  # a class-conditional model's guidance scale w (None: unconditional)
    cls: int | None = None  # the class asked for (None: every class in equal shares)

    def flat(self) -> dict[str, Any]:
        """One flat record: each metric as `name`, `name_sd` and `name_seeds` (the values of each
        seed) after the NFE columns."""
        d = asdict(self)
        scores, sds, per_seed = d.pop("scores"), d.pop("sds"), d.pop("per_seed")
        head = {k: d.pop(k) for k in ("label", "name", "solver", "steps", "tol", "nfe", "nfe_min", "nfe_max")}
        for k in scores:
            head[k], head[f"{k}_sd"], head[f"{k}_seeds"] = scores[k], sds[k], per_seed[k]
        return head | d


BUDGETS = (4, 6, 8, 10, 16, 20)  # the NFE budgets of the "best at each budget" table


def plans(solvers: list[str], steps: list[int], tols: list[float], options: dict[str, list] | None = None,
          *, grids: list[str] | None = None, nfe: list[int] | None = None, **plan_kw) -> list[SolverPlan]:
    """Every fixed-step count for every solver on every grid, and every tolerance for the
    adaptive ones (once, whatever the grids). `nfe` budgets add, for each solver, the most steps
    within each budget (budgets too small for one step are left out for that solver).
    `options` {name: [values]} go to the solvers that have them, one setting per combination;
    an option no listed solver has is an error naming the solvers that do."""
    from diffcli.sampling.plan import steps_for_nfe

    options = options or {}
    from diffcli.sampling.grids import GRIDS

    grids = grids or [plan_kw.get("grid") or SolverPlan.grid]
    plan_kw.pop("grid", None)
    for g in grids:
        GRIDS.get(g)  # an unknown grid is an error naming the known ones
    for k in options:
        if not any(k in option_names(s) for s in solvers):
            takers = option_takers(k)
            where = f"it is an option of {', '.join(takers)}" if takers else "no solver has it"
            raise DiffcliError(f"no listed solver ({', '.join(solvers)}) takes {flag(k)}; {where}")
    out = []
    for name in solvers:
        spec = SAMPLERS.get(name)
        mine = {k: v for k, v in options.items() if k in option_names(name)}
        for combo in itertools.product(*mine.values()):
            opts = dict(zip(mine, combo))
            counts = set(steps)
            for b in nfe or []:
                if b >= spec.nfe(make_plan(name, steps=1, options=opts), 1):
                    counts.add(steps_for_nfe(name, b, opts))
            out += [make_plan(name, steps=s, options=opts, grid=g, **plan_kw) for g in grids for s in sorted(counts)]
            if spec.adaptive:
                out += [make_plan(name, rtol=t, atol=t, options=opts, grid=grids[0], **plan_kw) for t in tols]
    return out


def run_bench(
    setup: Setup,
    state: TrainState,
    plan_list: list[SolverPlan],
    seeds: int,
    n: int,
    use_ema: bool | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
    metrics: Iterable[str] = DEFAULT_METRICS,
    guides: list[Guide] | None = None,
) -> tuple[list[BenchRow], Floor]:
    """Every plan (at every guide's scale and class, for a class-conditional model) over `seeds`."""
    metrics = check_names(metrics)
    params = weights(setup, state, use_ema)
    guides = guides or [Guide()]
    for g in guides:  # before any work
        check_guidance(g.scale, g.cls, setup.n_classes)
        if setup.n_classes:
            check_guide_trained(setup, g.scale)
    check_fit(metrics, setup.dataset, bool(setup.n_classes))  # and the classifier trained (once) before the timings
    with caught_signals() as got:
        return _bench(setup, params, [(p, g) for g in guides for p in plan_list], seeds, n, on_row, metrics, got)


def _bench(setup, params, settings, seeds, n, on_row, metrics, got) -> tuple[list[BenchRow], Floor]:
    rows = []
    # One compiled program per fixed-step setting (and guide); adaptive tolerances are arguments,
    # so all tolerances of one solver share one program (keyed by the plan without its tolerances).
    samplers: dict[tuple[SolverPlan, Guide], Callable] = {}
    multi_grid = len({p.grid_label() for p, _ in settings if not p.adaptive}) > 1
    conditional = bool(setup.n_classes)
    for plan, guide in settings:
        t = time.perf_counter()
        key = (replace(plan, rtol=None, atol=None), guide)
        if key not in samplers:
            samplers[key] = sampler_for(setup, plan, n, guide=guide)
        results = []
        for s in range(seeds):
            results.append(samplers[key](params, s, plan.rtol, plan.atol))
            stop_if_signalled(got, f"the bench ran {len(rows)} of {len(settings)} settings; the run's previous "
                                   "bench.json and bench.csv are kept")
        scored = [score(setup.dataset, r.samples, s, metrics, labels=r.labels) for s, r in enumerate(results)]
        total = time.perf_counter() - t
        nfes = [r.nfe for r in results]
        secs = [r.seconds for r in results]
        tag = (f" w={guide.scale:g}" + ("" if guide.cls is None else f" class {guide.cls}")) if conditional else ""
        row = BenchRow(
            label=plan.label() + tag, name=plan.label(short=True) + (f" {plan.grid_label() or 'uniform'}" if multi_grid
                                                                      and not plan.adaptive else "") + tag,
            guidance=guide.scale if conditional else None, cls=guide.cls,
            solver=plan.solver, variant=plan.options.label().strip(), grid=plan.grid_label() or
            ("" if plan.adaptive else "uniform"), steps=plan.steps, tol=plan.rtol,
            nfe=float(np.mean(nfes)), nfe_min=min(nfes), nfe_max=max(nfes),
            scores={m: float(np.mean([s[m] for s in scored])) for m in metrics},
            sds={m: spread([s[m] for s in scored]) for m in metrics},
            per_seed={m: [s[m] for s in scored] for m in metrics},
            ms_per_call=1e3 * float(np.median(secs)), ms_per_nfe=1e3 * float(np.median([s / f for s, f in zip(secs, nfes)])),
            compile_s=total - sum(secs),
        )
        rows.append(row)
        if on_row:
            on_row(row)
    first = METRICS.get(metrics[0])
    rows.sort(key=lambda r: (r.nfe, first.key(r.scores[metrics[0]])))
    floor = data_floor(setup.dataset, n, seeds, metrics, cache=floor_cache_key(setup.cfg))
    stop_if_signalled(got, f"the bench ran all {len(settings)} settings but was not written; the run's previous "
                           "bench.json and bench.csv are kept")
    return rows, floor


def best_at_budgets(rows: list[BenchRow], metric: str, budgets=BUDGETS) -> list[dict[str, Any]]:
    """For each NFE budget, the setting with the best mean `metric` among those that never use
    more NFE (an adaptive solve's most over the seeds), and how far above the plateau (the best
    of any setting) it is (for a metric where higher is better, how far below). Budgets below
    every setting's NFE are left out."""
    if not rows:
        return []
    m = METRICS.get(metric)
    plateau = min((r.scores[metric] for r in rows), key=m.key)
    out = []
    for b in budgets:
        within = [r for r in rows if r.nfe_max <= b]
        if within:
            r = min(within, key=lambda r: (m.key(r.scores[metric]), r.nfe))
            out.append({"budget": b, "label": r.label, "name": r.name, "nfe": r.nfe, metric: r.scores[metric],
                        f"{metric}_sd": r.sds[metric], "above_plateau": r.scores[metric] / plateau - 1})
    return out


def save_bench(run_dir: Path, rows: list[BenchRow], floor: Floor, meta: dict) -> None:
    """bench.json: {meta, floor, rows}; bench.csv: one line per setting, the per-seed values joined
    by ';', the data floor as floor_<metric> and floor_<metric>_sd columns on every line."""
    flat = [r.flat() for r in rows]
    metric = next(iter(floor.mean), None)
    best = best_at_budgets(rows, metric) if metric else []
    write_json(Path(run_dir) / "bench.json", {"meta": meta, "floor": floor.flat(), "rows": flat, "best": best})
    floor_cols = {f"floor_{k}": v for k, v in floor.flat().items() if k != "pairs"}
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[*(flat[0] if flat else {"label": None}), *floor_cols])
    w.writeheader()
    for r in flat:
        w.writerow({k: ";".join(f"{x!r}" for x in v) if isinstance(v, list) else v for k, v in r.items()} | floor_cols)
    write_text(Path(run_dir) / "bench.csv", buf.getvalue())


def bench_run(run, solvers: list[str], steps: list[int], tols: list[float], seeds: int, n: int,
              use_ema: bool | None = None, on_row=None, options: dict[str, list] | None = None,
              metrics: Iterable[str] | None = None, **plan_kw):
    """Load a run, bench every setting, write bench.json/bench.csv; returns (run_dir, rows, floor).
    plan_kw: the grid (default: the run's [sample] config) and the adaptive controller."""
    from diffcli.training.restore import load_run

    return bench_loaded(*load_run(run), solvers, steps, tols, seeds, n, use_ema, on_row, options, metrics, **plan_kw)


def bench_loaded(run_dir: Path, setup: Setup, state: TrainState, solvers: list[str], steps: list[int],
                 tols: list[float], seeds: int, n: int, use_ema: bool | None = None, on_row=None,
                 options: dict[str, list] | None = None, metrics: Iterable[str] | None = None,
                 guides: list[Guide] | None = None, **plan_kw):
    """bench_run for a run already loaded (training/restore.py load_run). metrics: None, the run's
    defaults (metrics.default_metrics); guides: the guidance scales and class of a conditional model."""
    from diffcli.metrics import default_metrics

    check_count(seeds, "--seeds", 1, MAX_SEEDS)
    check_points(n, setup.dataset.dim)
    metrics = check_names(metrics if metrics is not None else default_metrics(setup.dataset, bool(setup.n_classes)))
    guides = guides or [Guide()]
    from diffcli.sampling.api import with_fitted

    sc = setup.cfg.sample
    plan_kw = {"grid": sc.grid, "grid_power": sc.grid_power, "grid_rho": sc.grid_rho} | \
        {k: v for k, v in plan_kw.items() if v is not None}
    plan_list = plans(solvers, steps, tols, options, **plan_kw)  # checks every name and number first
    plan_list = [with_fitted(p, setup, run_dir) for p in plan_list]  # a missing fitted grid fails here, before any work
    if not plan_list:
        raise DiffcliError(f"nothing to bench for solvers {', '.join(solvers)}: give --steps for fixed-step "
                           "solvers or --tols for adaptive ones")
    for p in plan_list:  # a solver that does not fit the model fails before anything runs
        check_fits(p, setup.process)
    rows, floor = run_bench(setup, state, plan_list, seeds, n, use_ema, on_row, metrics, guides)
    cond = {"guidance": [g.scale for g in guides], "class": guides[0].cls} if setup.n_classes else {}
    save_bench(run_dir, rows, floor, {"seeds": seeds, "n": n, "use_ema": use_ema, "metrics": list(metrics),
                                      "mmd_sigma": bandwidth(setup.dataset), **cond, **plan_kw})
    return run_dir, rows, floor
