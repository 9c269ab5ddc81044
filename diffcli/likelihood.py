"""Negative log-likelihood of data through the probability-flow ODE (Chen et al. 2018;
Grathwohl et al. 2019; Song et al. 2021, appendix D).

Along the ODE dx/dt = v(t, x), d log p_t(x_t)/dt = −∇·v(x_t, t) (the instantaneous change of
variables), so integrating from the data end t0 to the prior end t1

    log p_t0(x) = log π(x_t1) + ∫_{t0}^{t1} ∇·v(x_t, t) dt,

with π the process's prior. The divergence is exact (the trace of the Jacobian through dim
forward-mode products) for dim ≤ EXACT_MAX_DIM, else Hutchinson's estimate
E_z[zᵀ (∂v/∂x) z] with `probes` Rademacher vectors z per point, drawn once per solve
(unbiased for the log-density). The augmented state (x, ∫∇·v) is solved by adaptive Tsit5
with PID step control through diffrax, compiled and checked by the samplers' driver
(sampling/driver.py). Points may have any shape (n, *shape); the divergence is over all their
numbers. NLL is reported in nats per dimension of the density
at t0 (for processes that stop at t0 > 0, the data's density with that last bit of noise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError
from diffcli.limits import check_count, check_points, check_seed
from diffcli.processes.base import row_sum
from diffcli.sampling.driver import Program, check_solve, diffrax_solve
from diffcli.sampling.registry import SAMPLERS

EXACT_MAX_DIM = 10  # exact divergence up to this dimension (dim JVPs per evaluation)
SOLVER = "tsit5"


@dataclass(frozen=True)
class NLLResult:
    nats_per_dim: float  # mean NLL over the points, nats per dimension
    stderr: float  # standard error of that mean (spread over points, probe noise included)
    nfe: int  # evaluations of the augmented field: each one network pass plus its JVPs
    steps: int
    accepted: int
    rejected: int
    exact: bool  # exact divergence, or Hutchinson
    probes: int  # Rademacher probes per point (Hutchinson); dim for the exact trace
    seconds: float  # compiled solve only
    per_point: np.ndarray  # (n,) NLL of each point, nats per dimension


def check_density(process) -> None:
    if "density" not in process.capabilities:
        raise DiffcliError(
            f"model {process.name!r} as configured has no exact likelihood: that needs a probability-flow ODE "
            "and a smooth prior log-density (a uniform-square source has neither); use source 'gaussian'"
        )


def make_nll(process, apply_fn: Callable[[Any], Callable], n: int, shape, *, exact: bool | None = None,
             probes: int = 1, max_steps: int = 4096) -> Callable[..., NLLResult]:
    """nll_fn(params, x, seed=0, rtol=1e-5, atol=1e-5) -> NLLResult for x of shape (n, *shape).

    One compiled program per (process, n, shape, exact, probes); the tolerances, the data and the
    seed of the Hutchinson probes are its arguments.
    """
    check_density(process)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dim = math.prod(shape)
    exact = dim <= EXACT_MAX_DIM if exact is None else bool(exact)
    if not exact and probes < 1:
        raise DiffcliError(f"probes must be a positive integer, got {probes}")
    k = dim if exact else int(probes)
    weight = 1.0 if exact else 1.0 / k  # exact: Σ_j e_jᵀ J e_j = tr J; Hutchinson: the mean over probes
    spec = SAMPLERS.get(SOLVER)
    t0, t1 = float(process.t0), float(process.t1)

    def run(params, x, key, rtol, atol):
        v = process.ode_drift(apply_fn(params))
        if exact:
            z = jnp.broadcast_to(jnp.eye(dim, dtype=x.dtype).reshape(dim, 1, *shape), (dim, n, *shape))
        else:
            z = jax.random.rademacher(key, (k, n, *shape), dtype=x.dtype)

        def field(t, state, args):
            y, _ = state
            vy, jvp = jax.linearize(lambda u: v(t, u), y)
            div = weight * jnp.sum(jax.vmap(lambda zz: row_sum(zz * jvp(zz)))(z), axis=0)
            return vy, div

        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field), spec.solver(), t0=t0, t1=t1, dt0=0.01 * (t1 - t0),
            y0=(x, jnp.zeros(n, x.dtype)), stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(t1=True), max_steps=max_steps, throw=False,
        )
        s = diffrax_solve(sol)
        x1, int_div = s.x
        return s._replace(x=-(process.prior_log_prob(x1) + int_div) / dim)

    program = Program(run)

    def nll_fn(params, x, seed: int = 0, rtol: float = 1e-5, atol: float = 1e-5) -> NLLResult:
        x = jnp.asarray(x)
        if x.shape != (n, *shape):
            raise DiffcliError(f"likelihood data must have shape {(n, *shape)}, got {tuple(x.shape)}")
        args = (params, x, jax.random.key(seed), jnp.asarray(rtol, x.dtype), jnp.asarray(atol, x.dtype))
        sol, seconds = program(*args)
        check_solve(f"likelihood solve ({SOLVER}, tol {rtol:g}/{atol:g})", sol.ok, sol.limit, sol.x, max_steps,
                    "loosen --rtol/--atol")
        per = np.asarray(sol.x, np.float64)
        steps = int(sol.steps)
        return NLLResult(
            nats_per_dim=float(per.mean()), stderr=float(per.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            nfe=spec.nfe(None, steps), steps=steps, accepted=int(sol.accepted), rejected=int(sol.rejected),
            exact=exact, probes=k, seconds=seconds, per_point=per,
        )

    return nll_fn


def nll(process, apply_fn, params, x, *, exact: bool | None = None, probes: int = 1, rtol: float = 1e-5,
        atol: float = 1e-5, seed: int = 0, max_steps: int = 4096) -> NLLResult:
    """NLL of held-out data x (n, *shape) in nats per dimension: see make_nll."""
    x = jnp.asarray(x)
    if x.ndim < 2 or x.shape[0] == 0:
        raise DiffcliError(f"likelihood data must have shape (n, d) or (n, *shape), got {tuple(x.shape)}")
    fn = make_nll(process, apply_fn, x.shape[0], x.shape[1:], exact=exact, probes=probes, max_steps=max_steps)
    return fn(params, x, seed, rtol, atol)


HELD_OUT_SALT = 0x11CE  # held-out data for seed s is drawn with key fold_in(key(s), salt)


def likelihood_run(run, n: int = 2000, seed: int = 0, *, exact: bool | None = None, probes: int = 1,
                   rtol: float = 1e-5, atol: float = 1e-5, use_ema: bool | None = None, max_steps: int = 4096,
                   on_start: Callable[[], None] | None = None):
    """NLL of n held-out points of a trained run's data set (fresh draws, or a user's file's
    held-out rows); writes
    likelihood/<exact|hutchinsonK>-tol<rtol>-n<n>[-raw]-seed<s>.json into the run. Returns (run_dir, NLLResult, path)."""
    from pathlib import Path

    from diffcli.runs import write_json
    from diffcli.sampling.api import result_stem, weights, which_weights
    from diffcli.training.restore import load_run

    if n < 2:
        raise DiffcliError(f"--n must be at least 2 (a mean and its standard error), got {n}")
    check_seed(seed)
    check_count(probes, "--probes", 1, 1000)
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not 0 < v < 1:
            raise DiffcliError(f"--{name} must be in (0, 1), got {v:g}")
    run_dir, setup, state = load_run(run)
    d = setup.dataset.dim
    vectors = d if (exact is None and d <= EXACT_MAX_DIM) or exact else probes  # the divergence's probe vectors
    check_points(n, d * (1 + vectors))
    check_density(setup.process)
    if on_start:  # every input is checked: the work begins
        on_start()
    x = setup.dataset.held_out_sample(jax.random.fold_in(jax.random.key(seed), HELD_OUT_SALT), n)
    r = nll(setup.process, setup.apply, weights(setup, state, use_ema), x, exact=exact, probes=probes,
            rtol=rtol, atol=atol, seed=seed, max_steps=max_steps)
    kind = "exact" if r.exact else f"hutchinson{r.probes}"
    tol = f"tol{rtol:g}" if rtol == atol else f"rtol{rtol:g}-atol{atol:g}"
    path = Path(run_dir) / "likelihood" / f"{result_stem(setup, f'{kind}-{tol}', n, seed, use_ema)}.json"
    write_json(path, {
        "nats_per_dim": r.nats_per_dim, "stderr": r.stderr, "nfe": r.nfe, "steps": r.steps,
        "accepted_steps": r.accepted, "rejected_steps": r.rejected, "exact": r.exact, "probes": r.probes,
        "rtol": rtol, "atol": atol, "n": n, "seed": seed, "seconds": r.seconds, "solver": SOLVER,
        "weights": which_weights(setup, use_ema),
    })
    return run_dir, r, path
