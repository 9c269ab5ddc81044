"""Samplers by name, each stating the process capability it needs (processes/base.py).

A sampler entry is built by make(process, apply_fn, plan, n, dim, trajectories) into
sampler(params, seed, rtol=None, atol=None) -> SampleResult, compiled once and reused across
seeds. Whether a sampler fits a model is decided by capability, never by the process's type:
check_fits names every solver the model accepts when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from diffcli.errors import DiffcliError
from diffcli.registry import Registry

# What each capability gives a sampler, for error messages.
NEEDS = {
    "ode": "a probability-flow ODE",
    "sde": "a forward diffusion SDE (f, g) and its score",
    "timesteps": "a discrete-time chain (ddpm)",
    "bridge": "a Brownian bridge's exact posterior",
}

# How a plan option shows in labels (and file names, so ASCII).
OPTION_LABELS = {"eta": "eta {:g}", "snr": "snr {:g}", "corrector_steps": "corrector {:d}"}


@dataclass(frozen=True)
class Sampler:
    name: str
    needs: str  # the process capability it runs on
    make: Callable[..., Callable]  # (process, apply_fn, plan, n, dim, trajectories) -> sampler
    summary: str  # one line: the algorithm and where it comes from
    adaptive: bool = False  # takes tolerances (PID step control) instead of steps
    default_steps: int | None = None  # None: the caller's default
    options: tuple[str, ...] = ()  # SolverPlan fields it reads beyond steps and grid
    ends_at_data: bool = False  # its last step lands on t = 0 (clean data), not on process.t0
    check: Callable | None = None  # check(plan, process): further fit checks (DiffcliError)


SAMPLERS: Registry[Sampler] = Registry("solver")


def accepted(process) -> list[str]:
    """Every sampler this process has the capability for, sorted by name."""
    return [n for n in SAMPLERS.names() if SAMPLERS.get(n).needs in process.capabilities]


def check_fits(plan, process) -> None:
    """DiffcliError, one line naming the accepted solvers, when plan.solver cannot run on process."""
    spec = SAMPLERS.get(plan.solver)
    if spec.needs not in process.capabilities:
        raise DiffcliError(
            f"solver {plan.solver!r} does not fit model {process.name!r}: it needs {NEEDS[spec.needs]}; "
            f"this model accepts: {', '.join(accepted(process))}"
        )
    if spec.check is not None:
        spec.check(plan, process)


def make_sampler(process, apply_fn, plan, n: int, dim: int, trajectories: int = 0):
    """sampler(params, seed[, rtol, atol]) -> SampleResult for any registered solver."""
    check_fits(plan, process)
    return SAMPLERS.get(plan.solver).make(process, apply_fn, plan, n, dim, trajectories)
