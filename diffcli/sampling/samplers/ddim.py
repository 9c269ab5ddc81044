"""DDIM (Song, Meng & Ermon 2021) on any diffusion path.

With x̂0, ε̂ the network's estimates at (t, x_t), one step from t down to s < t is

    x_s = α_s·x̂0 + sqrt(σ_s² − c²)·ε̂ + c·z,   c = η·σ_s·σ_{t|s}/σ_t,
    σ_{t|s}² = σ_t² − (α_t/α_s)²·σ_s²      (the forward transition's variance from s to t),

which is DDIM's update written with the path's own (α, σ): η = 0 is deterministic (the
first-order exponential integrator of the probability-flow ODE), η = 1 samples the exact
posterior q(x_s | x_t, x0 = x̂0), i.e. DDPM's ancestral step (Ho et al. 2020) with variance β̃.

The grid runs from t1 to t0, the trained interval's data end, where the network is called, and a
last step lands on t = 0, the clean data (for the VP family α = 1, σ = 0 there). On a
discrete chain (capability "timesteps") the grid is rounded to its timesteps i/T, so
`ancestral` (samplers/ancestral.py) at its default T steps is exactly Ho et al.'s sampler.
NFE = steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError
from diffcli.processes.parameterisation import to_x0_eps
from diffcli.sampling.registry import SAMPLERS, Options, option
from diffcli.sampling.steps import StepSampler, network_at, noise


@dataclass(frozen=True)
class DDIMOptions(Options):
    eta: float = option(0.0, "stochasticity: 0 deterministic (DDIM) … 1 ancestral (DDPM)", label="eta {:g}")

    def __post_init__(self):
        if not 0 <= self.eta <= 1:
            raise DiffcliError(f"--eta must be in [0, 1] (0: deterministic DDIM, 1: ancestral), got {self.eta:g}")


def on_the_chain(process, plan, times) -> np.ndarray:
    """The grid's times; on a discrete chain of T timesteps, the nearest distinct timesteps i/T
    (so at steps = T every timestep, whatever the grid)."""
    times = np.asarray(times, np.float64)
    T = process.n_timesteps
    if T:
        top = round(float(process.t1) * T)  # the chain's timesteps the grid can use: top … 0
        if plan.steps > top:
            raise DiffcliError(f"{plan.label()}: model {process.name!r} has {top} timesteps, too few for "
                               f"{plan.steps} distinct steps; use at most {top} steps")
        times = distinct_timesteps(times, T) / T
    return times


def distinct_timesteps(times: np.ndarray, T: int) -> np.ndarray:
    """round(times·T) moved as little as needed to be strictly decreasing from T to 0."""
    i = np.round(times * T).astype(np.int64)
    n = len(i) - 1
    for k in range(1, n + 1):  # each step at least one timestep down, leaving one for each step after it
        i[k] = max(min(i[k], i[k - 1] - 1), n - k)
    return i.astype(np.float64)


def ddim_step(process, pred, t, s, x, eta, z):
    """One DDIM step from t to s given the network's prediction `pred` at (t, x); t, s scalars;
    z: the step's N(0, I) noise (None when eta = 0)."""
    ct, cs = process.coeffs(t), process.coeffs(s)
    x0, eps = to_x0_eps(pred, x, ct, process.prediction)
    var_ts = jnp.maximum(ct.sigma**2 - (ct.alpha / cs.alpha) ** 2 * cs.sigma**2, 0.0)
    c = eta * cs.sigma * jnp.sqrt(var_ts) / ct.sigma
    out = cs.alpha * x0 + jnp.sqrt(jnp.maximum(cs.sigma**2 - c**2, 0.0)) * eps
    return out + c * z if eta else out  # η = 0 draws no noise


class DDIM(StepSampler):
    needs = frozenset({"sde"})
    Options = DDIMOptions
    summary = "DDIM with stochasticity η (0: deterministic, 1: ancestral)"
    ends_at_data = True
    default_steps = 100  # measured: a first-order method; at 20 steps it shrinks the spread (README, "Sampler defaults")
    order = 1  # at its default η = 0: the first-order exponential integrator (DPM-Solver-1)

    def eta(self, options) -> float:
        return options.eta

    def deterministic(self, options) -> bool:
        return self.eta(options) == 0

    def times(self, process, plan):
        return jnp.asarray(on_the_chain(process, plan, super().times(process, plan)))

    def check(self, plan, process):
        self.times(process, plan)  # a discrete chain with too few timesteps is an error

    def step(self, ctx, i, x, state):
        t, s = ctx.times[i], ctx.times[i + 1]
        pred, eta = network_at(ctx, t, x), self.eta(ctx.options)
        return ddim_step(ctx.process, pred, t, s, x, eta, noise(ctx, i, x) if eta else None), state


SAMPLERS.register("ddim")(DDIM())
