"""DDIM (Song, Meng & Ermon 2021) on any diffusion path, and DDPM ancestral sampling as η = 1.

With x̂0, ε̂ the network's estimates at (x_t, t), one step from t down to s < t is

    x_s = α_s·x̂0 + sqrt(σ_s² − c²)·ε̂ + c·z,   c = η·σ_s·σ_{t|s}/σ_t,
    σ_{t|s}² = σ_t² − (α_t/α_s)²·σ_s²      (the forward transition's variance from s to t),

which is DDIM's update written with the path's own (α, σ): η = 0 is deterministic (a
discretisation of the probability-flow ODE), η = 1 samples the exact posterior
q(x_s | x_t, x0 = x̂0), i.e. DDPM's ancestral step (Ho et al. 2020) with variance β̃.

The grid runs from t1 to t = 0 (clean data): the network is called at the first `steps`
points and the last step lands on the data (for the VP family α = 1, σ = 0 there). On a
discrete chain (capability "timesteps") the grid is rounded to its timesteps i/T, so
`ancestral` at its default T steps is exactly Ho et al.'s 1000-step sampler.
NFE = steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError
from diffcli.processes.parameterisation import to_x0_eps
from diffcli.sampling.fixed import fixed_step_sampler, scan_steps
from diffcli.sampling.grid import GRIDS
from diffcli.sampling.registry import SAMPLERS, Sampler


def data_grid(process, plan) -> np.ndarray:
    """steps + 1 times from t1 down to 0; on a discrete chain, rounded to its timesteps."""
    times = np.asarray(GRIDS.get(plan.grid)(plan.steps, float(process.t1), 0.0, power=plan.grid_power), np.float64)
    T = process.n_timesteps
    if T:
        times = np.round(times * T) / T
        if np.any(np.diff(times) >= 0):
            raise DiffcliError(
                f"{plan.label()}: model {process.name!r} has {T} timesteps, too few for {plan.steps} distinct "
                f"steps on the {plan.grid} grid; use at most {T} steps"
            )
    return times


def ddim_step(process, pred, x, t, s, eta, key):
    """One DDIM step from t to s given the network's prediction `pred` at (x, t); t, s scalars."""
    ct, cs = process.coeffs(t), process.coeffs(s)
    x0, eps = to_x0_eps(pred, x, ct, process.prediction)
    var_ts = jnp.maximum(ct.sigma**2 - (ct.alpha / cs.alpha) ** 2 * cs.sigma**2, 0.0)
    c = eta * cs.sigma * jnp.sqrt(var_ts) / ct.sigma
    return cs.alpha * x0 + jnp.sqrt(jnp.maximum(cs.sigma**2 - c**2, 0.0)) * eps + c * jax.random.normal(key, x.shape, x.dtype)


def _make(eta_of_plan):
    def make(process, apply_fn, plan, n, dim, trajectories=0):
        eta = eta_of_plan(plan)

        def run(params, key, times):
            k_prior, k_noise = jax.random.split(key)
            predict = process.predict(apply_fn(params))

            def step(x, i):
                t, s = times[i], times[i + 1]
                pred = predict(x, jnp.full(x.shape[:1], t, x.dtype))
                return ddim_step(process, pred, x, t, s, eta, jax.random.fold_in(k_noise, i))

            return scan_steps(step, process.prior_sample(k_prior, (n, dim)), plan.steps, trajectories)

        times = jnp.asarray(data_grid(process, plan), jnp.float32)
        return fixed_step_sampler(plan, run, times, plan.steps, trajectories)

    return make


def _check(plan, process):
    data_grid(process, plan)  # raises when a discrete chain has too few timesteps


SAMPLERS.register("ddim")(Sampler(
    "ddim", "sde", _make(lambda plan: plan.eta), "DDIM with stochasticity η (0: deterministic, 1: ancestral)",
    options=("eta",), ends_at_data=True, check=_check,
))
SAMPLERS.register("ancestral")(Sampler(
    "ancestral", "timesteps", _make(lambda plan: 1.0), "DDPM ancestral sampling (Ho et al. 2020) on the chain's timesteps",
    default_steps=1000, ends_at_data=True, check=_check,
))
