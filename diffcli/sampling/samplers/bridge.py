"""The Brownian bridge's exact posterior steps, from t1 = 1 (the source) down to t = 0 (data).

Each step draws x_s ~ q(x_s | x_t, x0 = x̂0) = N((t − s)/t·x̂0 + s/t·x_t, s_b²·s(t − s)/t·I)
(processes/bridge.py); the last step, to s = 0, has no noise and returns x̂0. NFE = steps.
"""

from __future__ import annotations

from diffcli.sampling.registry import SAMPLERS
from diffcli.sampling.steps import StepSampler, network_at, noise


class BridgeSteps(StepSampler):
    needs = frozenset({"bridge"})
    summary = "the Brownian bridge's exact posterior steps"
    default_steps = 200
    ends_at_data = True

    def step(self, ctx, i, x, state):
        t, s = ctx.times[i], ctx.times[i + 1]
        mean, std = ctx.process.posterior(t, s, x, network_at(ctx, t, x))
        return mean + std * noise(ctx, i, x), state


SAMPLERS.register("bridge")(BridgeSteps())
