"""Fitted time grids (`diffcli grid fit`): for one trained run, solver and NFE budget, the grid
of fixed steps whose samples come closest to an accurate solve's, found on warm-up noise.

  1. warm-up draws: `draws` points from the prior with keys of their own (FIT_SALT), which no
     sampling seed's key equals, so a grid is never fitted to the draws it is scored on;
  2. the reference: Tsit5 at rtol = atol = 1e-4 (a) from the first COST_DRAWS of them, saved at a
     fine candidate grid of `candidates` steps (the sampler's own times on a power-2 grid, dense
     near the data), and (b) from TEACHER_DRAWS further draws, at the end only;
  3. a first grid by dynamic programming, as GITS (Chen et al. 2024, "On the trajectory regularity
     of ODE-based diffusion sampling") and Optimal Stepsize Distillation (Pei et al. 2025) do: the
     cost of a jump between candidates i → j is one step of the solver itself from the
     reference's state at i, and its mean distance to the reference at j (the local error);
     the path of K jumps with the least total cost is found in O(K·M²). Each named grid (uniform,
     power, edm, logsnr), moved onto the candidates, is a further starting grid;
  4. from the best start under the objective, coordinate descent: each interior time in turn is
     tried at candidates between its neighbours (all at once, one vmapped program), for at most
     `refine` sweeps, with about EVALS solves a budget in all.

The objective (--objective) is what the grid is judged by on the warm-up draws:
  chamfer   the Chamfer distance between the solver's end points and the reference's end points
            of the other TEACHER_DRAWS draws: how far the solver's samples are from the
            distribution an accurate solve gives (the default; it ranks grids as the CD of the
            bench does, where the end-point distance does not: measured in the README);
  endpoint  the mean distance of each draw's end point to its own reference end point, the
            trajectory error GITS and LD3 minimise.
A multistep solver's jump costs are its first step (no history); the descent fits the real
multistep solve. Each fit records the objective of the fitted grid, of the start it came from,
and of the run's default grid. The grids go into the run's grids.json, keyed by solver, options
and steps; `--grid fitted` reads them (fitted_times below).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.sampling.plan import SolverPlan, make_plan, steps_for_nfe
from diffcli.sampling.registry import SAMPLERS, check_fits

FIT_SALT = 0x6121  # the warm-up draws' key: fold_in(key(0), FIT_SALT); the teacher's: FIT_SALT + 1
DRAWS = 1024  # warm-up draws the solver runs from
COST_DRAWS = 64  # the first this many price the dynamic programme's jumps
TEACHER_DRAWS = 2048  # the reference's end points the chamfer objective compares with
CANDIDATES = 100
CANDIDATE_POWER = 2.0
REF_TOL = 1e-4  # float32: 1e-5 takes five times the steps (400, not 77, on the demo model) for nothing a grid can see
REF_MAX_STEPS = 16384
REFINE = 3  # at most this many coordinate-descent sweeps …
EVALS = 96  # … trying about this many grids a budget in all
WINDOW = 2  # each node tries the candidates this near it, and more spread between its neighbours
OBJECTIVES = ("chamfer", "endpoint")
OBJECTIVE = "chamfer"
GRIDS_FILE = "grids.json"


@dataclass(frozen=True)
class GridFit:
    solver: str
    variant: str  # the solver's options as in labels ('' at defaults)
    options: dict[str, Any]
    nfe: int
    steps: int
    times: tuple[float, ...]
    objective: str  # what was minimised against the reference (OBJECTIVES)
    error: float  # its value for the fitted grid on the warm-up draws
    start: str  # the grid the descent began from: "dp" or a named grid
    error_start: float  # the objective there
    error_default: float  # the objective of the run's default grid
    default_grid: str
    draws: int
    candidates: int
    refine: int
    seconds: float

    def key(self) -> tuple[str, str, int]:
        return self.solver, self.variant, self.steps


def draws_key(salt: int = 0):
    import jax

    return jax.random.fold_in(jax.random.key(0), FIT_SALT + salt)


def best_path(cost: np.ndarray, k: int) -> list[int]:
    """The path 0 → M−1 of exactly k jumps i → j (i < j) with the least total cost[i, j]."""
    m = cost.shape[0]
    if not 1 <= k <= m - 1:
        raise ValueError(f"{k} jumps over {m} candidates")
    total = np.full((k + 1, m), np.inf)
    total[0, 0] = 0.0
    arg = np.zeros((k + 1, m), np.int64)
    for s in range(1, k + 1):
        via = total[s - 1][:, None] + cost
        arg[s], total[s] = via.argmin(0), via.min(0)
    path = [m - 1]
    for s in range(k, 0, -1):
        path.append(int(arg[s, path[-1]]))
    return path[::-1]


def distance(x, ref):
    """The mean over points of the Euclidean distance between x and ref, each (n, *shape)."""
    import jax.numpy as jnp

    d = (x - ref).reshape(x.shape[0], -1)
    return jnp.mean(jnp.sqrt(jnp.sum(d * d, axis=1)))


def chamfer(x, ref):
    """The Chamfer distance between the point sets x (n, *shape) and ref (m, *shape)."""
    import jax.numpy as jnp

    a, b = x.reshape(x.shape[0], -1), ref.reshape(ref.shape[0], -1)
    d2 = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2 * a @ b.T
    d = jnp.sqrt(jnp.maximum(d2, 0.0))
    return jnp.mean(jnp.min(d, 1)) + jnp.mean(jnp.min(d, 0))


class Fitter:
    """One run's fits with one solver: the references, the jump costs, and the objective of
    whole solves on many grids at once; each piece compiled once."""

    def __init__(self, setup, params, solver: str, options: dict[str, Any] | None, draws: int = DRAWS,
                 candidates: int = CANDIDATES, objective: str = OBJECTIVE):
        import jax.numpy as jnp

        from diffcli.errors import choice_error

        if objective not in OBJECTIVES:
            raise choice_error("objective", objective, OBJECTIVES)
        self.setup, self.params, self.solver, self.objective = setup, params, solver, objective
        self.spec = SAMPLERS.get(solver)
        self.options = dict(options or {})
        p, shape = setup.process, setup.dataset.shape
        plan = make_plan(solver, steps=candidates, options=self.options, grid="power", grid_power=CANDIDATE_POWER)
        if not self.spec.deterministic(plan.options):
            raise DiffcliError(f"grid fit needs a deterministic sampler; {plan.label(short=True)} draws noise of its own")
        check_fits(plan, p)
        self.cand = np.asarray(self.spec.times(p, plan), np.float64)
        if not np.isclose(self.cand[-1], float(p.t0), rtol=0, atol=1e-6 * (float(p.t1) - float(p.t0))):
            raise DiffcliError(f"grid fit: {solver} ends at t = {self.cand[-1]:g}, past model {p.name!r}'s "
                               f"trained interval end t0 = {float(p.t0):g}, where no reference solve reaches")
        self.key = draws_key(2)  # for the solver's context; a deterministic solver draws nothing
        self.x1 = p.prior_sample(draws_key(), (draws, *shape))
        cand = jnp.asarray(self.cand, jnp.float32)
        self.path = self._reference(self.x1[:COST_DRAWS], cand)  # (M + 1, COST_DRAWS, *shape)
        if objective == "chamfer":
            self.target = self._reference(p.prior_sample(draws_key(1), (TEACHER_DRAWS, *shape)), cand[np.array([0, -1])])[-1]
        else:
            self.target = self._reference(self.x1, cand[np.array([0, -1])])[-1]

    def _context(self, net, x, times, plan: SolverPlan):
        import jax.numpy as jnp

        from diffcli.sampling.driver import Context

        return Context(self.setup.process, net, x, self.key, times, jnp.float32(0), jnp.float32(0), plan, 0)

    def _reference(self, x1, times):
        """Tsit5 at REF_TOL from x1, saved at `times` (the first t1, the last the end)."""
        import jax

        from diffcli.sampling.driver import check_solve, tsit5_path

        p = self.setup.process

        def ref(params, x1, times):
            return tsit5_path(p.ode_drift(self.setup.apply(params)), x1, times, REF_TOL, REF_MAX_STEPS)

        ys, ok, limit = jax.jit(ref)(self.params, x1, times)
        check_solve(f"grid fit's reference (tsit5 at tol {REF_TOL:g})", ok, limit, ys, REF_MAX_STEPS,
                    remedy="the model's flow is too stiff to fit a grid for")
        return ys

    def jump_costs(self) -> np.ndarray:
        """cost[i, j]: the mean distance to the reference after one step from candidate i to j
        (inf where j <= i)."""
        import jax
        import jax.numpy as jnp

        plan = make_plan(self.solver, steps=1, options=self.options)
        m = len(self.cand)
        ii, jj = np.triu_indices(m, 1)
        cand = jnp.asarray(self.cand, jnp.float32)

        def costs(params, ref, ii, jj):
            net = self.setup.apply(params)

            def one(ij):
                i, j = ij
                x = self.spec.solve(self._context(net, ref[i], jnp.stack([cand[i], cand[j]]), plan)).x
                return distance(x, ref[j])

            return jax.lax.map(one, (ii, jj), batch_size=64)

        c = np.asarray(jax.jit(costs)(self.params, self.path, jnp.asarray(ii), jnp.asarray(jj)), np.float64)
        out = np.full((m, m), np.inf)
        out[ii, jj] = np.where(np.isfinite(c), c, np.inf)
        return out

    def objective_of(self, steps: int) -> Callable[[np.ndarray], np.ndarray]:
        """f(grids (g, steps + 1)) -> (g,) the objective of whole solves on each grid."""
        import jax
        import jax.numpy as jnp

        plan = make_plan(self.solver, steps=steps, options=self.options, grid="uniform")
        score = chamfer if self.objective == "chamfer" else distance

        def objective(params, x1, target, grids):
            net = self.setup.apply(params)
            return jax.lax.map(lambda g: score(self.spec.solve(self._context(net, x1, g, plan)).x, target), grids,
                               batch_size=4)

        f = jax.jit(objective)

        def run(grids: np.ndarray) -> np.ndarray:
            e = np.asarray(f(self.params, self.x1, self.target, jnp.asarray(grids, jnp.float32)), np.float64)
            return np.where(np.isfinite(e), e, np.inf)

        return run

    def snap(self, times: np.ndarray) -> list[int] | None:
        """A grid's times as the nearest candidates, moved apart where two coincide (None when
        they cannot be: more steps than candidates)."""
        k = len(times) - 1
        idx = [int(np.argmin(np.abs(self.cand - t))) for t in times]
        idx[0], idx[-1] = 0, len(self.cand) - 1
        for i in range(1, k):  # each at least one after the last, leaving room for the rest
            idx[i] = min(max(idx[i], idx[i - 1] + 1), len(self.cand) - 1 - (k - i))
        return idx if all(a < b for a, b in zip(idx, idx[1:])) else None

    def refine(self, path: list[int], objective: Callable, sweeps: int) -> tuple[list[int], float]:
        """Coordinate descent over the candidates: each interior node in turn moved to whichever
        candidate between its neighbours gives the least objective — the WINDOW nearest each
        side and others spread evenly, about EVALS grids in all — until a sweep moves nothing."""
        path = list(path)
        best = float(objective(self.cand[np.array(path)][None])[0])
        per_node = max(2 * WINDOW + 2, EVALS // max(1, sweeps * (len(path) - 2)))
        for _ in range(sweeps):
            moved = False
            for k in range(1, len(path) - 1):
                lo, hi = path[k - 1] + 1, path[k + 1] - 1
                near = range(max(lo, path[k] - WINDOW), min(hi, path[k] + WINDOW) + 1)
                spread = np.linspace(lo, hi, max(0, min(per_node - 2 * WINDOW, hi - lo + 1))).round().astype(int)
                options = sorted((set(near) | set(spread.tolist())) - {path[k]})
                if not options:
                    continue
                grids = np.repeat(self.cand[np.array(path)][None], len(options), 0)
                grids[:, k] = self.cand[options]
                e = objective(grids)
                j = int(np.argmin(e))
                if e[j] < best:
                    best, moved = float(e[j]), True
                    path[k] = options[j]
            if not moved:
                break
        return path, best


def fit_grids(setup, params, solver: str, budgets: list[int], options: dict[str, Any] | None = None,
              draws: int = DRAWS, candidates: int = CANDIDATES, refine: int = REFINE, objective: str = OBJECTIVE,
              on_fit: Callable[[GridFit], None] | None = None) -> list[GridFit]:
    """One fitted grid per NFE budget (budgets that come to the same step count are fitted once)."""
    from diffcli.sampling.grids import GRIDS

    start = time.perf_counter()
    steps = sorted({steps_for_nfe(solver, b, options) for b in budgets})
    if steps[-1] > candidates:
        raise DiffcliError(f"{solver} at {steps[-1]} steps needs more than the {candidates} candidate times; "
                           f"raise --candidates above {steps[-1]}")
    f = Fitter(setup, params, solver, options, draws, candidates, objective)
    cost = f.jump_costs()
    spec, sc = f.spec, setup.cfg.sample
    out = []
    for k in steps:
        t = time.perf_counter()
        plan = make_plan(solver, steps=k, options=options, grid=sc.grid, grid_power=sc.grid_power, grid_rho=sc.grid_rho)
        score = f.objective_of(k)
        starts = {"dp": best_path(cost, k)}  # the dynamic programme's path, and each named grid's
        for name in GRIDS.names():
            if name != "fitted":
                named = dataclasses.replace(plan, grid=name)
                with contextlib.suppress(DiffcliError):  # a grid this model has no path for is left out
                    starts[named.grid_label() or name] = f.snap(np.asarray(spec.times(setup.process, named)))
        starts = {n: p for n, p in starts.items() if p is not None}
        scores = dict(zip(starts, score(np.stack([f.cand[np.array(p)] for p in starts.values()]))))
        first = min(scores, key=scores.get)
        path, err = f.refine(starts[first], score, refine) if refine else (starts[first], float(scores[first]))
        default = (float(score(np.asarray(spec.times(setup.process, plan))[None])[0]), plan.grid_label() or "uniform") \
            if sc.grid != "fitted" else (float("nan"), "")
        g = GridFit(solver, plan.options.label().strip(), dataclasses.asdict(plan.options), spec.nfe(plan, k), k,
                    tuple(float(x) for x in f.cand[np.array(path)]), objective, err, first, float(scores[first]),
                    *default, draws, candidates, refine, time.perf_counter() - (t if out else start))
        out.append(g)
        if on_fit:
            on_fit(g)
    return out


# -- grids.json --
def read_fits(run_dir: Path) -> list[dict[str, Any]]:
    import json

    path = Path(run_dir) / GRIDS_FILE
    if not path.exists():
        return []
    try:
        fits = json.loads(path.read_text())["fits"]
        assert isinstance(fits, list)
        return fits
    except (ValueError, KeyError, TypeError, AssertionError):
        raise DiffcliError(f"{path} is not a grids file written by `diffcli grid fit`; fit again to replace it") from None


def save_fits(run_dir: Path, fits: list[GridFit], how: dict[str, Any]) -> Path:
    """Add the fits to grids.json, replacing earlier fits of the same solver, options and steps."""
    from diffcli.runs import write_json

    new = {f.key(): f for f in fits}
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    kept = [r for r in read_fits(run_dir) if (r.get("solver"), r.get("variant"), r.get("steps")) not in new]
    rows = kept + [dataclasses.asdict(f) | {"fitted_at": when, "method": how} for f in fits]
    rows.sort(key=lambda r: (r["solver"], r["variant"], r["steps"]))
    path = Path(run_dir) / GRIDS_FILE
    write_json(path, {"fits": rows})
    return path


def fitted_times(run_dir: Path | None, plan: SolverPlan, process) -> tuple[float, ...]:
    """The fitted grid of this plan's solver, options and steps in the run's grids.json, or a
    one-line error saying which grids the run has and how to fit the missing one."""
    variant = plan.options.label().strip()
    fits = read_fits(run_dir) if run_dir is not None else []
    for r in fits:
        if (r.get("solver"), r.get("variant"), r.get("steps")) == (plan.solver, variant, plan.steps):
            times = tuple(float(x) for x in r["times"])
            if len(times) != plan.steps + 1 or not all(a > b for a, b in zip(times, times[1:])) or \
                    times[0] != float(process.t1):
                raise DiffcliError(f"the fitted grid for {plan.solver} {plan.steps} steps in {run_dir} is damaged; "
                                   "fit it again")
            return times
    have = sorted(r["steps"] for r in fits if (r.get("solver"), r.get("variant")) == (plan.solver, variant))
    nfe = SAMPLERS.get(plan.solver).nfe(plan, plan.steps)
    what = f"{plan.solver}{' ' + variant if variant else ''}"
    fitted = f"it has {what} fitted at {', '.join(map(str, have))} steps" if have else f"it has none for {what}"
    raise DiffcliError(f"no fitted grid for {what} at {plan.steps} steps in {run_dir or 'this run'} ({fitted}); "
                       f"fit one: diffcli grid fit {run_dir or 'RUN'} --solver {plan.solver} --nfe {nfe}")
