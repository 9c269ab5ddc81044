"""`diffcli reflow`: retrain a rectified flow on its own (noise, sample) pairs (Liu et al. 2022).

The parent flow maps each source draw x1 to a sample x0 along its ODE. Trained on those pairs
(a deterministic coupling whose straight lines no longer cross much), the child's paths are
straighter, so few solver steps suffice: the 2-rectified flow; reflow of a reflowed run gives
the k-rectified chain. `--distill` trains only at t = 1, the one-step map x0 = x1 − v(1, x1).

  1. load the parent, check the solver (deterministic: the pairs must be a map) and the child's
     config, all before any work;
  2. draw N source points with the pairs' own key (from --seed, salted: no sampling seed draws
     them again, so the child is never scored on its training noise) and solve them with the
     parent (any deterministic solver; default Tsit5 at rtol = atol = 1e-4 in the RMS norm over the batch: with the max
     norm the worst of 10⁵ draws sets every step, 1682 NFE for 2·10⁴ draws of the demo model):
     nothing is written yet, so Ctrl-C here
     leaves nothing behind;
  3. create the child run like `diffcli train` (atomic writes, --overwrite semantics, signals,
     resume with `diffcli train --resume`), with pairs.safetensors in it, its config saying
     train.pairs, run.json's `reflow` record (parent, its checkpoint's sha256 and step, the
     pairs' solver, NFE, seconds and seed, the chain of ancestors), and training starting from
     the parent's weights (fresh optimiser state).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from diffcli import config as C
from diffcli.errors import DiffcliError
from diffcli.limits import check_points, check_seed
from diffcli.runs import CHECKPOINT
from diffcli.training.pairs import PAIRS, pairs_bytes

DEFAULT_PAIRS = 100_000
PAIRS_SALT = 0x9A125  # the pairs' key: fold_in(key(seed), PAIRS_SALT), never a sampling seed's key
DEFAULT_TOL = 1e-4  # the pairs' solver: Tsit5 at rtol = atol = this


@dataclass(frozen=True)
class PairsMade:
    x_noise: np.ndarray
    x_data: np.ndarray
    record: dict[str, Any]


def make_pairs(setup, state, plan, n: int, seed: int, use_ema: bool | None = None) -> PairsMade:
    """N source draws and the parent's solutions from them, in one compiled program: the
    sampler's own solve (sampling/driver.py) from a key of the pairs' own, fold_in(key(seed),
    PAIRS_SALT), so no sampling seed of the child ever draws its training noise again; the
    draw is returned from the same program, so row i pairs by construction."""
    from diffcli.sampling.api import sampler_for, weights, which_weights
    from diffcli.sampling.checks import check_solve
    from diffcli.sampling.registry import SAMPLERS

    spec = SAMPLERS.get(plan.solver)
    if not spec.deterministic(plan.options):
        raise DiffcliError(f"solver {plan.solver!r} is stochastic; reflow pairs each source point with its "
                           "solution, which needs a deterministic solver (tsit5, dopri5, heun, euler, dpm++2m, …)")
    shape, sampler = setup.dataset.shape, sampler_for(setup, plan, n)

    def run(params, key, rtol, atol):
        return setup.process.prior_sample(key, (n, *shape)), sampler.run(params, key, sampler.times, rtol, atol)

    key = jax.random.fold_in(jax.random.key(seed), PAIRS_SALT)
    tol = (jnp.float32(plan.rtol or 0.0), jnp.float32(plan.atol or 0.0))
    t = time.perf_counter()
    x_noise, sol = jax.block_until_ready(jax.jit(run)(weights(setup, state, use_ema), key, *tol))
    seconds = time.perf_counter() - t
    check_solve(f"reflow pairs: {plan.label()}", sol.ok, sol.limit, sol.x, plan.max_steps if plan.adaptive else plan.steps)
    steps = int(sol.steps)
    record = {"n": n, "seed": seed, "key": f"fold_in(key({seed}), {PAIRS_SALT:#x})", "solver": plan.label(),
              "plan": plan.record(), "nfe": spec.nfe(plan, steps), "steps": steps, "seconds": round(seconds, 3),
              "weights": which_weights(setup, use_ema)}
    return PairsMade(np.asarray(x_noise, np.float32), np.asarray(sol.x, np.float32), record)


def child_config(parent_cfg: C.Config, steps: int | None, seed: int | None, distill: bool,
                 overrides: list[str]) -> C.Config:
    """The parent's config with the pairs to train on (coupling "pairs": they are the coupling),
    the training steps and seed, `distill`, and the user's --set on top."""
    model = C.section_items(parent_cfg, "model")
    layer = {"model": {k: v for k, v in model.items() if k != "process"} | {"coupling": "pairs"},
             "train": {"pairs": PAIRS, "distill": distill}}
    if steps is not None:
        layer["train"]["steps"] = steps
    if seed is not None:
        layer["train"]["seed"] = seed
    from diffcli.processes import PROCESSES

    process = parent_cfg.model.process
    if process not in PROCESSES or "coupling" not in PROCESSES.options(process):
        raise DiffcliError(f"reflow retrains a flow on its own pairs; model {parent_cfg.model.process!r} does not "
                           "train on (source, data) pairs (rf does)")
    cfg = C.from_dict(layer, parent_cfg)
    return C.apply_overrides(cfg, overrides)


def reflow_run(parent, plan_args: dict[str, Any], pairs: int = DEFAULT_PAIRS, seed: int | None = None,
               steps: int | None = None, distill: bool = False, overrides: list[str] = (),
               runs_root: Path = Path("runs"), name: str | None = None, overwrite: bool = False,
               use_ema: bool | None = None, on_pairs: Callable[[], None] | None = None,
               on_chunk: Callable[[int, float, float], None] | None = None):
    """Make the pairs with the parent, then train the child on them from the parent's weights.
    plan_args: sampling.api.plan_for's keywords (solver, steps, rtol, atol, grid, options …).
    Returns (child run_dir, TrainSummary, PairsMade.record)."""
    from diffcli.sampling.api import plan_for, weights
    from diffcli.training.api import train_run
    from diffcli.training.restore import load_run
    from diffcli.training.setup import build

    parent_dir, psetup, pstate = load_run(parent)
    if psetup.process.prediction != "velocity":
        raise DiffcliError(f"reflow retrains a flow on its own pairs; run {str(parent_dir)!r} is a "
                           f"{psetup.process.name!r} model, not a velocity model (rf)")
    if psetup.n_classes:
        raise DiffcliError(f"run {str(parent_dir)!r} is class-conditional; reflow is not supported for it: its pairs "
                           "would carry no labels")
    if psetup.cfg.train.distill:
        raise DiffcliError(f"run {str(parent_dir)!r} is distilled (train.distill): its network was trained at "
                           "t = 1 only, so it has no flow to solve; reflow its parent instead")
    check_points(pairs, psetup.dataset.dim, "--pairs")
    seed = psetup.cfg.train.seed if seed is None else seed
    check_seed(seed, "--seed")
    cfg = child_config(psetup.cfg, steps, seed, distill, list(overrides))
    csetup = build(cfg)  # the child's config is checked before the pairs are made
    if name is not None:  # so is its name (a default name never collides)
        from diffcli.runs import new_run_dir

        new_run_dir(Path(runs_root), name, "", overwrite)
    if plan_args.get("solver") is None:
        plan_args = {**plan_args, "solver": "tsit5"}
        if plan_args.get("steps") is None and plan_args.get("rtol") is None and plan_args.get("atol") is None:
            plan_args |= {"rtol": DEFAULT_TOL, "atol": DEFAULT_TOL, "norm": plan_args.get("norm") or "rms"}
    plan = plan_for(psetup, run_dir=parent_dir, **plan_args)
    if on_pairs:
        on_pairs()
    made = make_pairs(psetup, pstate, plan, pairs, seed, use_ema)
    params = weights(psetup, pstate, use_ema)
    fresh = csetup.init_state()
    state = fresh._replace(params=params, ema=jax.tree.map(np.copy, params), opt_state=csetup.tx.init(params))
    info = {"reflow": lineage(parent_dir, int(pstate.step), made.record, distill)}
    record = {**made.record, "parent": str(parent_dir)}
    run_dir, summary = train_run(cfg, runs_root, name, overwrite, on_chunk, setup=csetup, state=state,
                                 files={PAIRS: pairs_bytes(made.x_noise, made.x_data, record)}, info=info)
    return run_dir, summary, made.record


def lineage(parent_dir: Path, step: int, pairs: dict[str, Any], distill: bool) -> dict[str, Any]:
    """run.json's reflow record: the parent (path, checkpoint sha256 and step), the pairs, k (the
    parent's k + 1; a run trained from scratch is the 1-rectified flow) and the chain of ancestors."""
    try:
        up = json.loads((parent_dir / "run.json").read_text()).get("reflow") or {}
    except (OSError, ValueError):
        up = {}
    sha = hashlib.sha256((parent_dir / CHECKPOINT).read_bytes()).hexdigest()
    return {"parent": str(parent_dir.resolve()), "parent_checkpoint_sha256": sha, "parent_step": step,
            "k": int(up.get("k", 1)) + 1, "chain": [*up.get("chain", []), str(parent_dir.resolve())],
            "pairs": pairs, "distill": distill}


__all__ = ["reflow_run", "make_pairs", "child_config", "lineage"]
