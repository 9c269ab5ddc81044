"""`diffcli sample`: draw samples from a trained run and score them against fresh data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from diffcli.conditioning import Guide, check_guidance, check_guide_trained, class_labels, evaluations, guided
from diffcli.limits import check_count, check_points, check_seed
from diffcli.metrics import DEFAULT_METRICS, check_fit, check_names
from diffcli.sampling.driver import make_sampler
from diffcli.sampling.plan import SolverPlan, make_plan
from diffcli.sampling.records import finish_sample, plan_head, slug
from diffcli.sampling.registry import default_solver
from diffcli.scoring import floor_cache_key
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState


def sampler_for(setup: Setup, plan: SolverPlan, n: int, trajectories: int = 0, guide: Guide = Guide()):
    """The plan's sampler for this run's model; a solver that does not fit the model is a
    one-line DiffcliError naming the solvers it accepts. A conditional model is sampled at the
    guide's class (default: every class in equal shares) and guidance scale."""
    k = setup.n_classes
    check_guidance(guide.scale, guide.cls, k)
    if k:
        check_guide_trained(setup, guide.scale)
    if not k:
        return make_sampler(setup.process, setup.apply, plan, n, setup.dataset.shape, trajectories)
    labels = class_labels(n, k, guide.cls)
    return make_sampler(setup.process, lambda p: guided(setup.labelled_net(p), labels, guide.scale, k), plan, n,
                        setup.dataset.shape, trajectories, evals=evaluations(guide.scale), labels=labels)


def plan_for(setup: Setup, solver: str | None = None, steps: int | None = None, rtol: float | None = None,
             atol: float | None = None, *, grid: str | None = None, grid_power: float | None = None,
             grid_rho: float | None = None, run_dir: Path | None = None, **kw) -> SolverPlan:
    """The plan for a run's model: the grid defaults to the run's [sample] config, the solver to
    its model's own (heun where it has an ODE); it must fit the model. A fitted grid is read from
    run_dir's grids.json (an error naming the fix when there is none). kw: make_plan's."""
    from diffcli.sampling.grids import GRIDS

    sc = setup.cfg.sample
    grid = sc.grid if grid is None else grid
    GRIDS.get(grid)
    plan = make_plan(solver or default_solver(setup.process), steps, rtol, atol, process=setup.process, grid=grid,
                     grid_power=sc.grid_power if grid_power is None else grid_power,
                     grid_rho=sc.grid_rho if grid_rho is None else grid_rho, **kw)
    return with_fitted(plan, setup, run_dir)


def with_fitted(plan: SolverPlan, setup: Setup, run_dir: Path | None) -> SolverPlan:
    """The plan with its fitted times where its grid is `fitted` (fixed steps only)."""
    if plan.grid != "fitted" or plan.adaptive:
        return plan
    from dataclasses import replace

    from diffcli.sampling.fit import fitted_times

    return replace(plan, grid_times=fitted_times(run_dir, plan, setup.process))


def which_weights(setup: Setup, use_ema: bool | None = None) -> str:
    """'ema' or 'raw': the weights a command samples with (the EMA only where training kept one)."""
    use_ema = setup.cfg.sample.use_ema if use_ema is None else use_ema
    return "ema" if use_ema and setup.cfg.train.ema > 0 else "raw"


def weights(setup: Setup, state: TrainState, use_ema: bool | None = None):
    return state.ema if which_weights(setup, use_ema) == "ema" else state.params


def result_stem(setup: Setup, label: str, n: int, seed: int, use_ema: bool | None, guide: Guide | None = None) -> str:
    """A result's file name: everything that tells it apart (the label, n, the weights where a
    run has two sets, a conditional model's guidance and class when sampled with them, the seed),
    so results never overwrite each other."""
    raw = "-raw" if setup.cfg.train.ema > 0 and which_weights(setup, use_ema) == "raw" else ""
    cond = guide.tag() if setup.n_classes and guide is not None else ""
    return f"{slug(label)}-n{n}{raw}{cond}-seed{seed}"


def guide_head(setup: Setup, guide: Guide) -> dict:
    """What a sample record says of its conditioning (nothing for an unconditional model)."""
    return guide.record(setup.n_classes) if setup.n_classes else {}


def sample_run(run, plan: SolverPlan, n: int, seed: int, trajectories: int = 0, use_ema: bool | None = None,
               metrics: Iterable[str] = DEFAULT_METRICS, guide: Guide = Guide()):
    """Sample a trained run once, score it, write samples + metrics JSON into the run.

    Returns (run_dir, ScoredSample, Floor, path of the .npy, compile counts).
    """
    from diffcli.training.restore import load_run

    return sample_loaded(*load_run(run), plan, n, seed, trajectories, use_ema, metrics, guide=guide)


def sample_loaded(run_dir: Path, setup: Setup, state: TrainState, plan: SolverPlan, n: int, seed: int,
                  trajectories: int = 0, use_ema: bool | None = None, metrics: Iterable[str] = DEFAULT_METRICS,
                  on_start: Callable[[], None] | None = None, guide: Guide = Guide()):
    """sample_run for a run already loaded (training/restore.py load_run); on_start() once every
    input is checked, before the work."""
    from diffcli.jaxsetup import compile_counts

    check_points(n, setup.dataset.dim)
    check_seed(seed)
    check_count(trajectories, "--trajectories", 0, n)
    metrics = check_names(metrics)
    check_fit(metrics, setup.dataset, bool(setup.n_classes))
    sampler = sampler_for(setup, plan, n, trajectories, guide)
    if on_start:
        on_start()
    before = compile_counts()
    result = sampler(weights(setup, state, use_ema), seed)
    after = compile_counts()
    compiles = {k: after[k] - before[k] for k in after}
    scored, floor, path = finish_sample(run_dir, setup.dataset, result, seed, metrics,
                                        plan_head(plan) | guide_head(setup, guide),
                                        result_stem(setup, plan.label(), n, seed, use_ema, guide),
                                        which_weights(setup, use_ema), floor_cache_key(setup.cfg), compiles)
    return run_dir, scored, floor, path, compiles
