"""`diffcli sample`: draw samples from a trained run and score them against fresh data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jax

from diffcli.metrics import evaluate
from diffcli.runs import write_json, write_npy
from diffcli.sampling.ode import SampleResult
from diffcli.sampling.plan import SolverPlan
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState

REFERENCE_SALT = 0x5EED  # reference data for seed s is drawn with key fold_in(key(s), salt)


def reference_data(setup: Setup, n: int, seed: int):
    """Fresh data to score samples of `seed` against, independent of the sampler's noise."""
    return setup.dataset.sample(jax.random.fold_in(jax.random.key(seed), REFERENCE_SALT), n)


def sampler_for(setup: Setup, plan: SolverPlan, n: int, trajectories: int = 0):
    """The plan's sampler for this run's model; a solver that does not fit the model is a
    one-line DiffcliError naming the solvers it accepts."""
    from diffcli.sampling.samplers import make_sampler

    return make_sampler(setup.process, setup.apply, plan, n, setup.dataset.dim, trajectories)


def weights(setup: Setup, state: TrainState, use_ema: bool | None = None):
    use_ema = setup.cfg.sample.use_ema if use_ema is None else use_ema
    return state.ema if use_ema and setup.cfg.train.ema > 0 else state.params


@dataclass(frozen=True)
class ScoredSample:
    result: SampleResult
    cd: float
    mmd2: float


def score(setup: Setup, result: SampleResult, seed: int) -> ScoredSample:
    m = evaluate(result.samples, reference_data(setup, result.samples.shape[0], seed))
    return ScoredSample(result, m["cd"], m["mmd2"])


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.^-]+", "_", label).strip("_")


def save_sample(run_dir: Path, plan: SolverPlan, seed: int, scored: ScoredSample, extra: dict) -> Path:
    """Write samples/<label>-seed<s>.npy and the matching metrics JSON; return the .npy path."""
    r = scored.result
    stem = f"{slug(plan.label())}-seed{seed}"
    out = Path(run_dir) / "samples"
    write_npy(out / f"{stem}.npy", r.samples)
    if r.trajectories is not None:
        write_npy(out / f"{stem}-trajectories.npy", r.trajectories)
        write_npy(out / f"{stem}-trajectory-times.npy", r.traj_times)
    write_json(out / f"{stem}.json", {
        "solver": plan.solver, "label": plan.label(), "plan": plan.__dict__, "seed": seed,
        "n": int(r.samples.shape[0]), "nfe": r.nfe, "steps": r.steps, "accepted_steps": r.accepted,
        "rejected_steps": r.rejected, "seconds": r.seconds, "cd": scored.cd, "mmd2": scored.mmd2, **extra,
    })
    return out / f"{stem}.npy"


def sample_run(run, plan: SolverPlan, n: int, seed: int, trajectories: int = 0, use_ema: bool | None = None):
    """Sample a trained run once, score it, write samples + metrics JSON into the run.

    Returns (run_dir, ScoredSample, Floor, path of the .npy, compile counts).
    """
    from diffcli.bench import data_floor
    from diffcli.jaxsetup import compile_counts
    from diffcli.training.restore import load_run

    if n <= 0:
        from diffcli.errors import DiffcliError

        raise DiffcliError(f"--n must be a positive integer, got {n}")
    run_dir, setup, state = load_run(run)
    before = compile_counts()
    result = sampler_for(setup, plan, n, trajectories)(weights(setup, state, use_ema), seed)
    after = compile_counts()
    compiles = {k: after[k] - before[k] for k in after}
    scored = score(setup, result, seed)
    floor = data_floor(setup, n, 5)
    path = save_sample(run_dir, plan, seed, scored, {"floor_cd": floor.cd, "floor_mmd2": floor.mmd2, "compiles": compiles})
    return run_dir, scored, floor, path, compiles
