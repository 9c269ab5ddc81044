"""The Brownian bridge's exact posterior steps, from t1 = 1 (the source) down to t = 0 (data).

Each step draws x_s ~ q(x_s | x_t, x0 = x̂0) = N((t − s)/t·x̂0 + s/t·x_t, s_b²·s(t − s)/t·I)
(processes/bridge.py); the last step, to s = 0, has no noise and returns x̂0.
NFE = steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from diffcli.sampling.fixed import fixed_step_sampler, scan_steps
from diffcli.sampling.grid import GRIDS
from diffcli.sampling.registry import SAMPLERS, Sampler


def make_bridge_sampler(process, apply_fn, plan, n, dim, trajectories=0):
    def run(params, key, times):
        k_prior, k_noise = jax.random.split(key)
        predict = process.predict(apply_fn(params))

        def step(x, i):
            t, s = times[i], times[i + 1]
            x0 = predict(x, jnp.full(x.shape[:1], t, x.dtype))
            mean, std = process.posterior(x, x0, t, s)
            return mean + std * jax.random.normal(jax.random.fold_in(k_noise, i), x.shape, x.dtype)

        return scan_steps(step, process.prior_sample(k_prior, (n, dim)), plan.steps, trajectories)

    times = GRIDS.get(plan.grid)(plan.steps, float(process.t1), 0.0, power=plan.grid_power)
    return fixed_step_sampler(plan, run, times, plan.steps, trajectories)


SAMPLERS.register("bridge")(Sampler(
    "bridge", "bridge", make_bridge_sampler, "the Brownian bridge's exact posterior steps",
    default_steps=200, ends_at_data=True,
))
