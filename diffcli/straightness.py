"""How straight a trained flow is (`diffcli inspect`): Liu et al. (2022, "Flow straight and fast",
eq. 5)'s straightness along the probability-flow ODE's own trajectories,

    S = E ∫ ‖(x(t1) − x(t0))/(t1 − t0) − f(t, x(t))‖² dt / (t1 − t0),

the mean squared gap between the field and the chord of each trajectory: 0 exactly when every
trajectory is a straight line run at constant speed, which one Euler step integrates exactly.
Also reported relative to the chord's own mean square, E‖x(t1) − x(t0)‖²/(t1 − t0)², so
that runs on data of another scale compare.

The trajectories are Tsit5 solves (rtol = atol = 1e-4) from n prior draws of the seed's key,
saved at `times` times, spaced as u² (u uniform) towards the data, where learned fields turn
sharply; the field is evaluated there (times × n evaluations) and the integral is the
trapezoid rule over those times. Rectified flow's field is the velocity; a
diffusion's is its probability-flow drift (for which Liu et al.'s quantity is defined alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOL = 1e-4
MAX_STEPS = 16384
TIMES = 129
POWER = 2.0  # the saved times t0 + (t1 − t0)·u², u uniform: dense near the data, where fields bend


@dataclass(frozen=True)
class Straightness:
    straightness: float  # S above
    relative: float  # S / (E‖x(t1) − x(t0)‖² / (t1 − t0)²)
    chord: float  # E‖x(t1) − x(t0)‖² / (t1 − t0)²
    n: int
    times: int
    seed: int


def straightness(process, net, x1, times: int = TIMES, seed: int = 0) -> Straightness:
    """S for trajectories from x1 (n, *shape) at process.t1; net(t, x) the network."""
    import jax
    import jax.numpy as jnp

    from diffcli.sampling.driver import check_solve, tsit5_path

    t1, t0 = float(process.t1), float(process.t0)
    ts_np = t0 + (t1 - t0) * np.linspace(1.0, 0.0, times) ** POWER
    ts = jnp.asarray(ts_np, jnp.float32)

    def run(x1):
        drift = process.ode_drift(net)
        path, ok, limit = tsit5_path(drift, x1, ts, TOL, MAX_STEPS)  # (times, n, *shape)
        chord = (path[-1] - path[0]) / (t0 - t1)  # the constant velocity of the straight line
        fields = jax.lax.map(lambda tx: drift(tx[0], tx[1]), (ts, path))
        gap = jnp.sum(((fields - chord) ** 2).reshape(times, x1.shape[0], -1), axis=-1).mean(axis=1)
        return gap, jnp.sum(chord.reshape(x1.shape[0], -1) ** 2, axis=-1).mean(), ok, limit, path

    gap, chord, ok, limit, path = jax.jit(run)(x1)
    check_solve(f"straightness solve (tsit5 at tol {TOL:g})", ok, limit, path, MAX_STEPS)
    gap = np.asarray(gap, np.float64)
    dt = -np.diff(ts_np) / (t1 - t0)  # trapezoid rule, in units of the interval
    s = float(np.sum((gap[1:] + gap[:-1]) / 2 * dt))
    return Straightness(s, s / float(chord), float(chord), int(x1.shape[0]), times, seed)


def inspect_run(run, n: int = 2000, seed: int = 0, use_ema: bool | None = None):
    """(run_dir, Straightness, path of straightness.json) for a trained run."""
    from diffcli.training.restore import load_run

    return inspect_loaded(*load_run(run), n, seed, use_ema)


def stored_straightness(run_dir, setup, state, use_ema: bool | None = None) -> Straightness | None:
    """straightness.json's measure where it measured these weights (same checkpoint step and
    tolerance; whatever n and seed `inspect` was given), else None."""
    import dataclasses
    import json

    from diffcli.sampling.api import which_weights

    try:
        old = json.loads((run_dir / "straightness.json").read_text())
        if old.get("weights") == which_weights(setup, use_ema) and old.get("step") == int(state.step) \
                and old.get("tol") == TOL:
            return Straightness(*(old[f.name] for f in dataclasses.fields(Straightness)))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def inspect_loaded(run_dir, setup, state, n: int = 2000, seed: int = 0, use_ema: bool | None = None):
    """inspect_run for a loaded run."""
    import dataclasses

    import jax

    from diffcli.limits import check_count, check_points, check_seed
    from diffcli.runs import write_json
    from diffcli.sampling.api import weights, which_weights

    path = run_dir / "straightness.json"
    check_points(n, setup.dataset.dim)
    check_seed(seed)
    check_count(n, "--n", 2, 10**6)
    if "ode" not in setup.process.capabilities:
        from diffcli.errors import DiffcliError

        raise DiffcliError(f"model {setup.process.name!r} has no probability-flow ODE, so no trajectories to measure")
    x1 = setup.process.prior_sample(jax.random.key(seed), (n, *setup.dataset.shape))
    r = straightness(setup.process, setup.apply(weights(setup, state, use_ema)), x1, seed=seed)
    record = {"n": n, "seed": seed, "weights": which_weights(setup, use_ema), "step": int(state.step), "tol": TOL}
    write_json(path, dataclasses.asdict(r) | record)
    return run_dir, r, path
