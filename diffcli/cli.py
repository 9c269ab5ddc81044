"""The command line: parse, load the config, call one library function, render the result.

No JAX math here, and JAX is imported lazily inside commands so `diffcli --help` is fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import typer
from typer.exceptions import Abort, TyperException

from diffcli.errors import DiffcliError

app = typer.Typer(
    help="diffcli: train diffusion and flow models, then choose the integrator and see what it costs in NFE.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        import diffcli

        typer.echo(f"diffcli {diffcli.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", metavar="", is_eager=True, callback=_version,
                                       help="print diffcli's version and exit")):
    """diffcli: train diffusion and flow models, then choose the integrator and see what it costs in NFE."""


# -- shell completion: the registries are read only when the shell asks, so --help stays fast --
def _names(registry: str) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        import importlib

        module, attr = registry.rsplit(".", 1)
        names = getattr(importlib.import_module(module), attr).names()
        head, _, last = incomplete.rpartition(",")  # comma lists complete their last item
        return [f"{head}," * bool(head) + n for n in names if n.startswith(last)]

    return complete


SOLVERS = _names("diffcli.sampling.registry.SAMPLERS")
MODELS = _names("diffcli.processes.base.PROCESSES")
DATA = _names("diffcli.data.base.DATASETS")
NETWORKS = _names("diffcli.nn.base.NETWORKS")
METRICS = _names("diffcli.metrics.base.METRICS")
GRIDS = _names("diffcli.sampling.grids.GRIDS")


def _norms(incomplete: str) -> list[str]:
    return [n for n in ("max", "rms") if n.startswith(incomplete)]


FLAG = {"metavar": ""}  # a flag takes no value: help shows none
JSON_HELP = "print the record written to disk, as JSON, instead of the table"
QUIET_HELP = "no progress and no table (errors still go to stderr)"


def _split(text: str, cast, what: str) -> list:
    try:
        out = [cast(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DiffcliError(f"--{what} must be a comma-separated list of {cast.__name__}s, got {text!r}") from None
    if not out:
        raise DiffcliError(f"--{what} is empty; give e.g. --{what} " + ("10,20" if cast is int else "1e-2,1e-3"))
    return out


SOLVER_HELP = "a registered solver (diffcli list solvers); default: heun where the model has an ODE"
SOLVER_OPTIONS = ("Options of the chosen solver follow as --NAME VALUE, e.g. --eta 0.5 for ddim, --snr 0.1 for pc "
                  "(diffcli list solvers shows each solver's options).")
METRICS_HELP = ("comma-separated metrics (diffcli list metrics): cd, mmd2, w2, energy, sw, fd, acc, … "
                "(default: cd,mmd2; fd,acc,cd,mmd2 for a class-conditional model, fd,cd,mmd2 for labelled images)")
GUIDANCE_HELP = "classifier-free guidance scale w >= 0 of a class-conditional model (0: the conditional model alone)"
CLASS_HELP = "the class to sample a class-conditional model at (default: every class in equal shares)"
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


DT0_HELP = "adaptive: the first step as a fraction of the interval (default: automatic, Hairer & Wanner's rule)"
GRID_HELP = "fixed-step time grid: uniform | power | edm | logsnr | fitted (diffcli grid fit) (default: the run's)"
NORM_HELP = ("adaptive error norm over the batch: max = the worst sample's RMS error (every sample meets the "
             "tolerance), rms = the RMS over all numbers (diffrax's default; loose tolerances then fail near the data)")


def _check_run(run: str) -> None:
    if run.startswith("--"):
        raise DiffcliError(f"the run comes before a solver's options: diffcli sample RUN {run} VALUE, not {run} VALUE RUN")


def _solver_options(args: list[str], lists: bool = False) -> dict:
    """The `--name value` (or `--name=value`) pairs left after a command's own options: the chosen
    solver's options. Values are read as TOML (0.5, 2, true); with `lists`, comma-separated."""
    from diffcli.config import parse_value

    out: dict = {}
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--") or len(a) < 3:
            raise DiffcliError(f"unexpected argument {a!r}; solver options are given as --NAME VALUE")
        name, eq, value = a[2:].partition("=")
        if not eq:
            has_value = i + 1 < len(args) and not args[i + 1].startswith("--")
            value = args[i + 1] if has_value else None
            i += has_value
        i += 1
        key = name.replace("-", "_")
        if value is None:
            out[key] = [None] if lists else None
        else:
            out[key] = [parse_value(v) for v in value.split(",")] if lists else parse_value(value)
    return out


def _start_jax(distributed: bool = False) -> None:
    from diffcli.jaxsetup import configure

    configure()
    if distributed:
        from diffcli.devices import init_distributed

        init_distributed()


DISTRIBUTED_HELP = ("initialise jax.distributed first (a multi-host cluster: Slurm and Open MPI are detected; else set "
                    "DIFFCLI_COORDINATOR, DIFFCLI_NUM_PROCESSES, DIFFCLI_PROCESS_ID); only process 0 writes")


@app.command(epilog="Examples:  diffcli train --model rf --data cat  ·  diffcli train -c configs/vpsde_cat.toml --name vp  ·  "
                    "diffcli train --data pts.csv --set model.source=uniform-square  ·  diffcli train --resume runs/vp")
def train(
    model: str | None = typer.Option(None, "--model", "-m", autocompletion=MODELS,
                                     help="process (diffcli list models): rf, vpsde, vesde, ddpm, …"),
    data: str | None = typer.Option(None, "--data", "-d", autocompletion=DATA,
                                    help="data set name or a .npy/.csv file of shape (n, d) or (n, *shape)"),
    network: str | None = typer.Option(None, "--network", autocompletion=NETWORKS,
                                       help="network (diffcli list networks): mlp, unet"),
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML config (defaults: configs/rf_cat.toml's values)"),
    steps: int | None = typer.Option(None, "--steps", help="training steps (train.steps)"),
    seed: int | None = typer.Option(None, "--seed", help="training seed (train.seed), in [0, 2^32)"),
    name: str | None = typer.Option(None, "--name", help="run name under runs/ (default: <model>-<data>-<i>)"),
    set_: list[str] = typer.Option([], "--set",
                                   help="override a config value: --set train.lr=1e-3 or model.sigma_max=20 (repeatable)"),
    overwrite: bool = typer.Option(False, "--overwrite", **FLAG, help="replace an existing run of the same name"),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="where run directories live"),
    resume: str | None = typer.Option(None, "--resume", help="continue this run from its latest checkpoint"),
    distributed: bool = typer.Option(False, "--distributed", **FLAG, help=DISTRIBUTED_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """Train a model; writes runs/<name>/ (config, checkpoint, metrics.jsonl, summary.json).

    Ctrl-C or SIGTERM saves a checkpoint at the current step; --resume RUN continues it."""
    from diffcli import config as C

    if resume is not None:
        if any(v is not None for v in (model, data, network, config, seed, name)) or set_ or overwrite:
            raise DiffcliError("--resume takes the run's own config; only --steps may be given with it")
        cfg = None
    else:
        # the flags and --set form one layer over the config file: an option given with --set
        # stays with the model (or data set, network) named by a flag, and is checked against it
        layer = C.overrides(set_)
        direct = {"model": {"process": model}, "data": {"name": data}, "network": {"name": network},
                  "train": {"steps": steps, "seed": seed}}
        for sec, kv in direct.items():
            layer.setdefault(sec, {}).update({k: v for k, v in kv.items() if v is not None})
        cfg = C.from_dict({k: v for k, v in layer.items() if v}, C.load(config))
    if distributed and overwrite:
        raise DiffcliError("--overwrite is not taken with --distributed (every process would move the old run); "
                           "remove the old run first or pick another --name")
    if distributed and name is None and resume is None:
        raise DiffcliError("--distributed needs --name (or --resume): every process must name the same run")
    _start_jax(distributed)
    from diffcli.render import console, kv_table, progress
    from diffcli.training.api import resume_run, train_run
    from diffcli.training.setup import build

    setup = build(cfg) if cfg is not None else None  # bad input fails here, before any progress
    if resume is not None:
        from diffcli.runs import open_run

        total = steps or C.load(open_run(resume) / "config.toml").train.steps
    else:
        total = setup.cfg.train.steps
    with progress("train", total, "steps", quiet) as update:
        def on_chunk(step, loss, sps):
            update(step, f"loss {loss:.4f}, {sps:.0f} steps/s")

        if resume is not None:
            run_dir, s = resume_run(resume, steps, on_chunk)
        else:
            run_dir, s = train_run(setup.cfg, runs_dir, name, overwrite, on_chunk, setup=setup)
    if not quiet:
        console.print(kv_table(f"trained {run_dir}", {
            "steps": s.steps, "final loss": s.final_loss, "steps/s": f"{s.steps_per_s:.1f}",
            "compile s": f"{s.compile_seconds:.1f}", "wall s": f"{s.seconds:.1f}",
        }))


@app.command(context_settings=EXTRA, epilog=SOLVER_OPTIONS + "  Examples:  diffcli sample RUN --solver heun --steps 10  ·  "
             "diffcli sample RUN --solver tsit5 --rtol 1e-3 --trajectories 20  ·  diffcli sample RUN --solver ddim --eta 0.5")
def sample(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
    solver: str | None = typer.Option(None, "--solver", autocompletion=SOLVERS, help=SOLVER_HELP),
    steps: int | None = typer.Option(None, "--steps", help="fixed steps (default: the solver's own, else 20)"),
    rtol: float | None = typer.Option(None, "--rtol", help="adaptive: relative tolerance in (0, 1); alone it sets --atol too"),
    atol: float | None = typer.Option(None, "--atol", help="adaptive: absolute tolerance in (0, 1); alone it sets --rtol too"),
    n: int = typer.Option(2000, "--n", help="number of samples"),
    seed: int = typer.Option(0, "--seed", help="sampling seed, in [0, 2^32)"),
    trajectories: int = typer.Option(0, "--trajectories", help="also save K trajectories"),
    grid: str | None = typer.Option(None, "--grid", autocompletion=GRIDS, help=GRID_HELP),
    grid_power: float | None = typer.Option(None, "--grid-power", help="exponent of the power grid, in [0.1, 10]"),
    grid_rho: float | None = typer.Option(None, "--grid-rho", help="ρ of the edm grid, in [0.1, 20] (default 7)"),
    pcoeff: float = typer.Option(0.0, "--pcoeff", help="PID controller: proportional coefficient"),
    icoeff: float = typer.Option(1.0, "--icoeff", help="PID controller: integral coefficient"),
    dcoeff: float = typer.Option(0.0, "--dcoeff", help="PID controller: derivative coefficient"),
    max_steps: int = typer.Option(4096, "--max-steps", help="adaptive: step limit before the solve fails"),
    dt0_frac: float | None = typer.Option(None, "--dt0-frac", help=DT0_HELP),
    norm: str = typer.Option("max", "--norm", autocompletion=_norms, help=NORM_HELP),
    metrics: str | None = typer.Option(None, "--metrics", autocompletion=METRICS, help=METRICS_HELP),
    guidance: float = typer.Option(0.0, "--guidance", help=GUIDANCE_HELP),
    cls: int | None = typer.Option(None, "--class", help=CLASS_HELP),
    raw: bool = typer.Option(False, "--raw", **FLAG, help="use the raw weights instead of the EMA"),
    distributed: bool = typer.Option(False, "--distributed", **FLAG, help=DISTRIBUTED_HELP),
    as_json: bool = typer.Option(False, "--json", **FLAG, help=JSON_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """Sample a trained run with one integrator; writes samples/*.npy and a metrics JSON."""
    _check_run(run)
    metric_list = _split(metrics, str, "metrics") if metrics is not None else None
    options = _solver_options(ctx.args)
    _start_jax(distributed)
    from diffcli.render import console, err_console, kv_table, scores_items
    from diffcli.runs import open_run
    from diffcli.sampling import fast

    # A request seen before runs its stored, exported program: no diffrax, no flax, no tracing.
    run_dir = open_run(run)
    request = {"solver": solver, "steps": steps, "rtol": rtol, "atol": atol, "grid": grid, "grid_power": grid_power,
               "grid_rho": grid_rho, "pcoeff": pcoeff, "icoeff": icoeff, "dcoeff": dcoeff, "max_steps": max_steps,
               "dt0_frac": dt0_frac, "norm": norm, "options": options, "n": n, "trajectories": trajectories, "raw": raw,
               "guidance": guidance, "class": cls}
    key = fast.program_key(run_dir, request)
    stored = fast.load(key)
    from diffcli.conditioning import Guide

    guide = Guide(guidance, cls)
    if stored is None:
        from diffcli.metrics import default_metrics
        from diffcli.sampling.api import plan_for, sample_loaded
        from diffcli.training.restore import load_run

        run_dir, setup, state = load_run(run_dir)
        plan = plan_for(setup, solver, steps, rtol, atol, grid=grid, grid_power=grid_power, grid_rho=grid_rho,
                        run_dir=run_dir, options=options, pcoeff=pcoeff, icoeff=icoeff, dcoeff=dcoeff,
                        max_steps=max_steps, dt0_frac=dt0_frac, norm=norm)
        stored = fast.prepare(key, run_dir, setup, state, plan, n, trajectories, use_ema=False if raw else None,
                              guide=guide)
        defaults = default_metrics(setup.dataset, bool(setup.n_classes))
    else:
        defaults = tuple(stored[0]["metrics"])
    metric_list = metric_list or list(defaults)
    label = stored[0]["label"] if stored else plan.label()

    def announce():
        if not quiet and not console.is_terminal:
            err_console.print(f"sample: {label}, {n} points …", highlight=False)

    if stored:
        run_dir, sc, floor, path, compiles = fast.sample_cached(run_dir, *stored, seed, metric_list, announce)
    else:  # a sampler that cannot be exported: the traced path
        run_dir, sc, floor, path, compiles = sample_loaded(run_dir, setup, state, plan, n, seed, trajectories,
                                                           use_ema=False if raw else None, metrics=metric_list,
                                                           on_start=announce, guide=guide)
    if as_json:
        _print_json(path.with_suffix(".json"))
    elif not quiet:
        r = sc.result
        cond = {} if r.labels is None else {
            "guidance": f"w = {guidance:g}" + (" (2 evaluations per call)" if guidance else ""),
            "class": "every class in equal shares" if cls is None else str(cls)}
        console.print(kv_table(f"{label} · {run_dir}", {
            **cond, "NFE": r.nfe, "steps (accepted/rejected)": f"{r.steps} ({r.accepted}/{r.rejected})",
            **scores_items(sc.scores, floor),
            "ms / call": f"{1e3 * r.seconds:.1f}", "ms / NFE": f"{1e3 * r.seconds / r.nfe:.2f}",
            "compiled": f"{compiles['cache_misses']} new, {compiles['cache_hits']} from cache",
            "samples": str(path),
        }))


def _print_json(path: Path) -> None:
    """The record as written to disk, on stdout."""
    sys.stdout.write(json.dumps(json.loads(Path(path).read_text()), indent=2) + "\n")


@app.command(context_settings=EXTRA, epilog=SOLVER_OPTIONS + " In a bench an option may list several values "
             "(--eta 0,0.5,1): every combination is a setting.  Examples:  diffcli bench RUN --solvers euler,heun,tsit5 "
             "--steps 10,20 --tols 1e-2  ·  diffcli bench RUN --solvers ddim --steps 20,50 --eta 0,1 --metrics cd,w2")
def bench(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
    solvers: str = typer.Option("euler,heun,tsit5", "--solvers", autocompletion=SOLVERS, help="comma-separated solver names"),
    steps: str = typer.Option("10,20,50,100", "--steps", help="fixed step counts, comma-separated"),
    tols: str = typer.Option("5e-2,1e-2,1e-3,5e-4", "--tols",
                             help="tolerances for adaptive solvers, comma-separated; each sets rtol = atol"),
    seeds: int = typer.Option(5, "--seeds", help="sampling seeds per setting"),
    n: int = typer.Option(2000, "--n", help="samples per seed"),
    nfe: str = typer.Option("", "--nfe", help="NFE budgets, comma-separated: each solver at the most steps within each "
                                              "(added to --steps; e.g. --steps '' --nfe 4,6,8,10,16,20)"),
    grids: str | None = typer.Option(None, "--grids", "--grid", autocompletion=GRIDS,
                                     help="time grids, comma-separated: every fixed-step setting on each "
                                          "(uniform, power, edm, logsnr, fitted; default: the run's)"),
    grid_power: float | None = typer.Option(None, "--grid-power", help="exponent of the power grid, in [0.1, 10]"),
    grid_rho: float | None = typer.Option(None, "--grid-rho", help="ρ of the edm grid, in [0.1, 20] (default 7)"),
    norm: str = typer.Option("max", "--norm", autocompletion=_norms, help=NORM_HELP),
    dt0_frac: float | None = typer.Option(None, "--dt0-frac", help=DT0_HELP),
    metrics: str | None = typer.Option(None, "--metrics", autocompletion=METRICS, help=METRICS_HELP),
    guidance: str = typer.Option("0", "--guidance", help="guidance scales of a class-conditional model, comma-separated "
                                                         "(rows per scale; e.g. 0,1,2,4)"),
    cls: int | None = typer.Option(None, "--class", help=CLASS_HELP),
    raw: bool = typer.Option(False, "--raw", **FLAG, help="use the raw weights instead of the EMA"),
    distributed: bool = typer.Option(False, "--distributed", **FLAG, help=DISTRIBUTED_HELP),
    as_json: bool = typer.Option(False, "--json", **FLAG, help=JSON_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """Every solver setting over several seeds: NFE, the metrics (mean ± sample sd), time; writes bench.json and bench.csv."""
    solver_list = _split(solvers, str, "solvers")
    step_list = _split(steps, int, "steps") if steps.strip() else []
    tol_list = _split(tols, float, "tols") if tols.strip() else []
    metric_list = _split(metrics, str, "metrics") if metrics is not None else None
    from diffcli.conditioning import Guide

    guides = [Guide(w, cls) for w in _split(guidance, float, "guidance")]
    _check_run(run)
    options = _solver_options(ctx.args, lists=True)
    _start_jax(distributed)
    from diffcli.bench import bench_loaded, plans
    from diffcli.render import bench_table, console, progress
    from diffcli.training.restore import load_run

    loaded = load_run(run)
    sc = loaded[1].cfg.sample
    grid_list = _split(grids, str, "grids") if grids is not None else [sc.grid]
    nfe_list = _split(nfe, int, "nfe") if nfe.strip() else []
    kw = {"grids": grid_list, "nfe": nfe_list, "grid_power": sc.grid_power if grid_power is None else grid_power,
          "grid_rho": sc.grid_rho if grid_rho is None else grid_rho, "norm": norm, "dt0_frac": dt0_frac}
    total = len(plans(solver_list, step_list, tol_list, options, **kw)) * len(guides)
    if not total:
        raise DiffcliError(f"nothing to bench for solvers {', '.join(solver_list)}: give --steps or --nfe for "
                           "fixed-step solvers, --tols for adaptive ones")
    with progress("bench", total, "settings", quiet) as update:
        done = []

        def on_row(r):
            done.append(r)
            first = next(iter(r.scores))
            update(len(done), f"{r.label}: NFE {r.nfe:.0f}, {first} {r.scores[first]:.5g}")

        run_dir, rows, floor = bench_loaded(*loaded, solver_list, step_list, tol_list, seeds, n,
                                            use_ema=False if raw else None, on_row=on_row, options=options,
                                            metrics=metric_list, guides=guides, **kw)
    if as_json:
        _print_json(run_dir / "bench.json")
    elif not quiet:
        from diffcli.bench import best_at_budgets
        from diffcli.render import best_table

        shown = {r.grid for r in rows if r.grid}
        where = f" · fixed steps on the {shown.pop()} time grid" if len(shown) == 1 else ""
        console.print(bench_table(rows, floor, f"bench · {run_dir} · {seeds} seeds × {n} samples · mean ± sample sd"
                                               + where))
        metric = next(iter(floor.mean))
        console.print(best_table(best_at_budgets(rows, metric), metric, floor))
        console.print(f"wrote {run_dir / 'bench.json'} and {run_dir / 'bench.csv'}")


@app.command(epilog="Examples:  diffcli likelihood RUN --n 2000 --rtol 1e-4  ·  diffcli likelihood RUN --hutchinson --probes 4")
def likelihood(
    run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
    n: int = typer.Option(2000, "--n", help="held-out data points"),
    seed: int = typer.Option(0, "--seed", help="seed of the held-out draw (and the Hutchinson probes), in [0, 2^32)"),
    exact: bool | None = typer.Option(None, "--exact/--hutchinson", **FLAG,
                                      help="divergence: exact trace, or Hutchinson's estimate (default: exact up to 10 dims)"),
    probes: int = typer.Option(1, "--probes", help="Hutchinson: Rademacher probes per point"),
    rtol: float = typer.Option(1e-5, "--rtol", help="Tsit5 relative tolerance"),
    atol: float = typer.Option(1e-5, "--atol", help="Tsit5 absolute tolerance"),
    raw: bool = typer.Option(False, "--raw", **FLAG, help="use the raw weights instead of the EMA"),
    as_json: bool = typer.Option(False, "--json", **FLAG, help=JSON_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """NLL of held-out data in nats per dimension through the probability-flow ODE (adaptive Tsit5)."""
    _start_jax()
    from diffcli.likelihood import likelihood_run
    from diffcli.render import console, err_console, kv_table

    def announce():
        if not quiet:
            err_console.print(f"likelihood: {n} held-out points, Tsit5 at rtol {rtol:g}, atol {atol:g} …", highlight=False)

    run_dir, r, path = likelihood_run(run, n, seed, exact=exact, probes=probes, rtol=rtol, atol=atol,
                                      use_ema=False if raw else None, on_start=announce)
    if as_json:
        _print_json(path)
    elif not quiet:
        console.print(kv_table(f"likelihood · {run_dir}", {
            "NLL (nats / dim)": f"{r.nats_per_dim:.4f} ± {r.stderr:.4f}",
            "divergence": "exact" if r.exact else f"Hutchinson, {r.probes} Rademacher probe(s)",
            "NFE": r.nfe, "steps (accepted/rejected)": f"{r.steps} ({r.accepted}/{r.rejected})",
            "seconds": f"{r.seconds:.2f}", "written": str(path),
        }))


@app.command(epilog="Examples:  diffcli plot runs/demo-rf-cat  ·  diffcli plot RUN --solver dpm++2m --steps 8 --format pdf --out figs")
def plot(run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
         solver: str | None = typer.Option(None, "--solver", autocompletion=SOLVERS, help=SOLVER_HELP),
         steps: int | None = typer.Option(None, "--steps", help="fixed steps of the plotted samples (default 20)"),
         n: int | None = typer.Option(None, "--n", help="samples plotted (default: the run's sample.n; images: 64)"),
         seed: int = typer.Option(0, "--seed", help="sampling seed"),
         fmt: str = typer.Option("png", "--format", help="png | pdf | svg (the flow is always a GIF)"),
         out: Path | None = typer.Option(None, "--out", help="folder for the figures (default: RUN/plots)"),
         guidance: str | None = typer.Option(None, "--guidance", help="a class-conditional model's guidance scales for "
                                             "classes.png, comma-separated (default: the bench's, else 0,2)"),
         quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP)):
    """Figures of samples, trajectories, loss and bench (whatever the run has), and a GIF of the flow.

    Samples already in the run (same solver, steps, n and seed) are reused; otherwise they are
    sampled and saved there first."""
    _start_jax()
    from diffcli.plot import plot_run
    from diffcli.render import console

    ws = _split(guidance, float, "guidance") if guidance is not None else None
    made, missing = plot_run(run, solver, steps, n, fmt, out, seed, ws)
    if not quiet:
        for p in made:
            console.print(f"wrote {p}")
        for m in missing:
            console.print(f"[yellow]skipped[/]: {m}")


@app.command(epilog="Example:  diffcli export runs/demo-rf-cat --out demo.safetensors")
def export(run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
           out: Path | None = typer.Option(None, "--out", help="where to write (default: RUN/export.safetensors)"),
           raw: bool = typer.Option(False, "--raw", **FLAG, help="export the raw weights instead of the EMA"),
           quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP)):
    """The network's weights alone, PyTorch names and layouts, with the conventions in the metadata."""
    _start_jax()
    from diffcli.export import export_run
    from diffcli.render import console

    path, meta = export_run(run, out, use_ema=False if raw else None)
    if not quiet:
        console.print(f"wrote {path} ({meta['network']}, {meta['prediction']}, {meta['weights']} weights)")


@app.command("list", epilog="Examples:  diffcli list  ·  diffcli list solvers")
def list_(kind: str | None = typer.Argument(None, help="models | solvers | metrics | data | networks | grids | couplings | sources (all)")):
    """Every registered model, solver, metric, data set, network and time grid, with its options."""
    from diffcli.catalogue import KINDS, rows
    from diffcli.render import console, plain_table

    for k in [kind] if kind else KINDS:
        header, body = rows(k)
        console.print(plain_table(k, header, body))


@app.command(epilog="Example:  diffcli inspect runs/demo-rf-cat --n 2000")
def inspect(run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
            n: int = typer.Option(2000, "--n", help="trajectories, from prior draws of the seed"),
            seed: int = typer.Option(0, "--seed", help="seed of the prior draws, in [0, 2^32)"),
            raw: bool = typer.Option(False, "--raw", **FLAG, help="use the raw weights instead of the EMA"),
            as_json: bool = typer.Option(False, "--json", **FLAG, help=JSON_HELP),
            quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP)):
    """How straight the trained flow is (Liu et al. 2022): E‖chord − field‖² along its own trajectories; writes straightness.json."""
    _check_run(run)
    _start_jax()
    from diffcli.render import console, kv_table
    from diffcli.straightness import inspect_run

    run_dir, r, path = inspect_run(run, n, seed, use_ema=False if raw else None)
    if as_json:
        _print_json(path)
    elif not quiet:
        console.print(kv_table(f"straightness · {run_dir}", {
            "straightness": f"{r.straightness:.5g}   (0: every trajectory a straight line at constant speed)",
            "relative": f"{r.relative:.4g}   (to the chord's mean square {r.chord:.4g})",
            "trajectories": f"{r.n} (seed {r.seed}), field at {r.times} times", "written": str(path),
        }))


@app.command(context_settings=EXTRA, epilog=SOLVER_OPTIONS + "  Examples:  diffcli reflow runs/demo-rf-cat --name rf2  ·  "
             "diffcli reflow rf2 --name rf3  ·  diffcli reflow RUN --pairs 50000 --solver heun --steps 50 --distill  ·  "
             "diffcli reflow RUN --set train.lr=1e-3 --train-steps 6000")
def reflow(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="the parent run (a velocity model: rf)"),
    pairs: int = typer.Option(100_000, "--pairs", help="(noise, sample) pairs to draw and solve with the parent"),
    solver: str | None = typer.Option(None, "--solver", autocompletion=SOLVERS,
                                      help="the pairs' deterministic solver (default: tsit5 at rtol = atol = 1e-4, rms norm)"),
    steps: int | None = typer.Option(None, "--steps", help="the pairs' solver: fixed steps"),
    rtol: float | None = typer.Option(None, "--rtol", help="the pairs' solver: relative tolerance (adaptive)"),
    atol: float | None = typer.Option(None, "--atol", help="the pairs' solver: absolute tolerance (adaptive)"),
    grid: str | None = typer.Option(None, "--grid", autocompletion=GRIDS, help=GRID_HELP),
    max_steps: int = typer.Option(4096, "--max-steps", help="adaptive: step limit before the solve fails"),
    norm: str = typer.Option("rms", "--norm", autocompletion=_norms,
                             help="the pairs' adaptive error norm: rms (default here: the pairs' error on average) or max"),
    train_steps: int | None = typer.Option(None, "--train-steps", help="the child's training steps (default: the parent's)"),
    seed: int | None = typer.Option(None, "--seed", help="seed of the pairs' draws and the child's training (default: the parent's)"),
    distill: bool = typer.Option(False, "--distill", **FLAG, help="train only at t = 1: a one-step model (1 Euler step)"),
    set_: list[str] = typer.Option([], "--set", help="override the child's config: --set train.lr=1e-3 (repeatable)"),
    name: str | None = typer.Option(None, "--name", help="the child's run name under runs/ (default: <model>-<data>-<i>)"),
    overwrite: bool = typer.Option(False, "--overwrite", **FLAG, help="replace an existing run of the same name"),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="where run directories live"),
    raw: bool = typer.Option(False, "--raw", **FLAG, help="the parent's raw weights instead of its EMA"),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """Reflow: solve N source draws with a trained flow, then train a child run on those pairs from the
    parent's weights (a k-rectified flow: straighter paths, fewer steps). Resume it with train --resume."""
    _check_run(run)
    options = _solver_options(ctx.args)
    _start_jax()
    from diffcli import config as C
    from diffcli.reflow import child_config, reflow_run
    from diffcli.render import console, err_console, kv_table, progress
    from diffcli.runs import open_run

    total = child_config(C.load(open_run(run) / "config.toml"), train_steps, seed, distill, set_).train.steps

    plan_args = {"solver": solver, "steps": steps, "rtol": rtol, "atol": atol, "grid": grid, "options": options,
                 "max_steps": max_steps, "norm": norm}
    started = []  # when the pairs' solve began: the reflow's whole cost is measured from there

    def on_pairs():
        if not quiet:
            err_console.print(f"reflow: solving {pairs} pairs with {run} …", highlight=False)
        started.append(time.perf_counter())

    with progress("reflow: train", total, "steps", quiet) as update:
        def on_chunk(step, loss, sps):
            update(step, f"loss {loss:.4f}, {sps:.0f} steps/s")

        run_dir, s, rec = reflow_run(run, plan_args, pairs, seed, train_steps, distill, set_, runs_dir, name,
                                     overwrite, use_ema=False if raw else None, on_pairs=on_pairs, on_chunk=on_chunk)
    if not quiet:
        console.print(kv_table(f"reflowed {run} → {run_dir}", {
            "pairs": f"{rec['n']} by {rec['solver']}, NFE {rec['nfe']}, {rec['seconds']:.1f} s",
            "steps": s.steps, "final loss": s.final_loss, "steps/s": f"{s.steps_per_s:.1f}",
            "train wall s": f"{s.seconds:.1f}", "total wall s": f"{time.perf_counter() - started[0]:.1f}",
        }))


grid_app = typer.Typer(help="Fitted time grids: fit one per solver and NFE budget (grids.json in the run), or show them.",
                       no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(grid_app, name="grid")


@grid_app.command("fit", context_settings=EXTRA, epilog="The grid minimises the distance of the solve's end points to a "
                  "Tsit5 reference (rtol = atol = 1e-5) over warm-up draws that no sampling seed uses: dynamic "
                  "programming over the one-step errors between candidate times, then coordinate descent on the "
                  "whole solve's error.  Examples:  diffcli grid fit RUN --solver heun --nfe 4,6,8,10,16  ·  "
                  "diffcli grid fit RUN --solver dpm++2m --nfe 4,8  ·  then: diffcli sample RUN --solver heun --steps 4 "
                  "--grid fitted")
def grid_fit(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
    solver: str | None = typer.Option(None, "--solver", autocompletion=SOLVERS, help=SOLVER_HELP),
    nfe: str = typer.Option("4,6,8,10,16", "--nfe", help="NFE budgets, comma-separated: one grid each, at the most "
                                                          "steps the budget allows"),
    draws: int = typer.Option(1024, "--draws", help="warm-up prior draws the grids are fitted on"),
    candidates: int = typer.Option(100, "--candidates", help="steps of the fine grid the times are chosen from"),
    refine: int = typer.Option(3, "--refine", help="most sweeps of coordinate descent (0: the best start as it is)"),
    objective: str = typer.Option("chamfer", "--objective",
                                  help="chamfer: the samples' distance to the reference's distribution; endpoint: "
                                       "each draw's distance to its own reference end point"),
    raw: bool = typer.Option(False, "--raw", **FLAG, help="use the raw weights instead of the EMA"),
    as_json: bool = typer.Option(False, "--json", **FLAG, help="print the fits as JSON instead of the table"),
    quiet: bool = typer.Option(False, "--quiet", "-q", **FLAG, help=QUIET_HELP),
):
    """Fit a time grid for each NFE budget of one solver on a trained run; writes grids.json in the run."""
    import dataclasses

    from diffcli.limits import check_count

    _check_run(run)
    budgets = _split(nfe, int, "nfe")
    options = _solver_options(ctx.args)
    check_count(draws, "--draws", 2, 100_000)
    check_count(candidates, "--candidates", 2, 2000)
    check_count(refine, "--refine", 0, 100)
    _start_jax()
    from diffcli.render import console, err_console, fits_table
    from diffcli.sampling.api import weights
    from diffcli.sampling.fit import fit_grids, save_fits
    from diffcli.sampling.registry import default_solver
    from diffcli.training.restore import load_run

    run_dir, setup, state = load_run(run)
    solver = solver or default_solver(setup.process)
    done = []

    def on_fit(g):
        done.append(g)
        if not quiet and not as_json:
            err_console.print(f"grid fit: {solver} {g.steps} steps (NFE {g.nfe}): {g.objective} {g.error:.4g} "
                              f"({g.default_grid} grid: {g.error_default:.4g})", highlight=False)

    fits = fit_grids(setup, weights(setup, state, False if raw else None), solver, budgets, options, draws, candidates,
                     refine, objective, on_fit=on_fit)
    path = save_fits(run_dir, fits, {"draws": draws, "candidates": candidates, "refine": refine, "objective": objective,
                                     "weights": "raw" if raw else "default", "reference": "tsit5 rtol=atol=1e-5"})
    if as_json:
        sys.stdout.write(json.dumps([dataclasses.asdict(f) for f in fits], indent=2) + "\n")
    elif not quiet:
        console.print(fits_table([dataclasses.asdict(f) for f in fits], f"fitted grids · {run_dir} · {draws} warm-up draws"))
        console.print(f"wrote {path}; use them with --grid fitted")


@grid_app.command("show", epilog="Example:  diffcli grid show runs/demo-rf-cat")
def grid_show(run: str = typer.Argument(..., help="run directory (or its name under runs/)"),
              as_json: bool = typer.Option(False, "--json", **FLAG, help="print grids.json instead of the table")):
    """The fitted grids a run has (its grids.json)."""
    from diffcli.render import console, fits_table
    from diffcli.runs import open_run
    from diffcli.sampling.fit import GRIDS_FILE, read_fits

    run_dir = open_run(run)
    fits = read_fits(run_dir)
    if as_json:
        sys.stdout.write(json.dumps({"fits": fits}, indent=2) + "\n")
    elif not fits:
        console.print(f"{run_dir} has no fitted grids; fit some: diffcli grid fit {run_dir} --solver heun --nfe 4,8,16")
    else:
        console.print(fits_table(fits, f"fitted grids · {run_dir / GRIDS_FILE}"))


def main() -> None:
    """Console entry point: user errors are one line on stderr with a non-zero exit code."""
    from rich.markup import escape

    from diffcli.render import err_console

    try:
        code = app(standalone_mode=False)
    except DiffcliError as e:
        err_console.print(f"[bold red]{e.prefix}:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except TyperException as e:  # usage errors: unknown option, non-numeric value, …
        if getattr(e, "ctx", None) is not None and "NoArgsIsHelp" in type(e).__name__:
            e.show()  # a bare command name shows its help
            sys.exit(2)
        err_console.print(f"[bold red]error:[/] {escape(e.format_message().strip())}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    except OSError as e:  # the file system said no: name the path and the cause, in one line
        where = f": {e.filename}" if e.filename else ""
        err_console.print(f"[bold red]error:[/] {escape(f'{e.strerror or e}{where}')}", highlight=False, soft_wrap=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
