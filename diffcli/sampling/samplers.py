"""Every sampler by name: the ODE solvers (sampling/ode.py) and the samplers beside them.

  name            needs (process capability)   NFE
  euler           ode                          steps
  heun            ode                          2·steps
  tsit5, dopri5   ode                          6·(accepted + rejected) + 1
  euler-maruyama  sde                          steps
  euler-heun      sde                          steps
  pc              sde                          steps·(1 + corrector_steps)
  ddim            sde                          steps
  ancestral       timesteps                    steps (default 1000)
  bridge          bridge                       steps
"""

from __future__ import annotations

from diffcli.sampling import bridge, ddim, pc, sde  # noqa: F401  (each registers itself)
from diffcli.sampling.ode import make_ode_sampler
from diffcli.sampling.registry import SAMPLERS, Sampler, accepted, check_fits, make_sampler
from diffcli.sampling.solvers import ODE_SOLVERS

for _name in ODE_SOLVERS.names():
    _spec = ODE_SOLVERS.get(_name)
    SAMPLERS.register(_name)(Sampler(
        _name, "ode", make_ode_sampler, f"{_name} on the probability-flow ODE (order {_spec.order})",
        adaptive=_spec.adaptive,
    ))

__all__ = ["SAMPLERS", "Sampler", "accepted", "check_fits", "make_sampler"]
