"""Samplers by name: one file each in diffcli/sampling/samplers/, registered in one line.

A sampler is an instance of one of three kinds, each a subclass of `Sampler`:

  sampling/ode.py    OdeSolver(diffrax solver): the probability-flow ODE through diffrax.diffeqsolve,
                     fixed steps on a time grid or adaptive with PID step control; its order,
                     stages, first-same-as-last and error estimate are read off the diffrax solver
  sampling/sde.py    SdeSolver(diffrax solver): the reverse-time SDE through diffrax
  sampling/steps.py  StepSampler: one pure step on a carry (x, state), scanned over the grid;
                     `state` is any pytree (a multistep method keeps its history there)

Each states the process capabilities it `needs` (a set, processes/base.py), its `Options` (a
small frozen dataclass that validates itself; each field is a `--name value` flag of `sample`
and `bench`), whether it is `adaptive` (takes tolerances), its `default_steps`, its
convergence `order` (None when stochastic) and how many network evaluations it costs (`nfe`).
sampling/driver.py does the rest for every sampler alike: the time grid, the prior draw, one
compilation, timing, and the checks of the solver's result and the samples' finiteness.

Whether a sampler fits a model is decided by capability, never by the process's type:
check_fits names every solver the model accepts when it does not.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from diffcli.errors import DiffcliError
from diffcli.registry import Registry

# The types the methods below meet (not imported: they import this module):
# plan: sampling/plan.py SolverPlan; ctx: sampling/driver.py Context; a solve returns driver.Solve.
SolverPlan = Context = Solve = Any

# What each capability gives a sampler, for error messages.
NEEDS = {
    "ode": "a probability-flow ODE",
    "path": "an affine path x_t = α·x0 + σ·ε (x0, ε and velocity from the network)",
    "score": "a Gaussian path (the score from the network)",
    "sde": "a forward diffusion SDE (f, g) and its score",
    "timesteps": "a discrete-time chain (ddpm)",
    "bridge": "a Brownian bridge's exact posterior",
    "density": "a probability-flow ODE and a smooth prior density",
}


def option(default: Any, help: str, label: str | None = None) -> Any:
    """A field of a sampler's Options: its default, one line of help, and how labels show it
    ("eta {:g}": always, in that format; None: only when it differs from the default)."""
    return field(default=default, metadata={"help": help, "label": label})


@dataclass(frozen=True)
class Options:
    """A sampler's options: a frozen dataclass whose fields are `--name value` flags; a subclass
    validates its values in __post_init__ and raises DiffcliError naming the flag."""

    def label(self) -> str:
        """How the options show in labels and file names: ' eta 0.5', ' snr 0.1 corrector 2'."""
        out = ""
        for f in dataclasses.fields(self):
            v, fmt = getattr(self, f.name), f.metadata.get("label")
            if fmt:
                out += " " + fmt.format(v)
            elif v != f.default:
                out += f" {flag(f.name)[2:]} {v:g}" if isinstance(v, float) else f" {flag(f.name)[2:]} {v}"
        return out


def option_names(solver: str) -> list[str]:
    """The names of a solver's options (its Options fields)."""
    return [f.name for f in dataclasses.fields(SAMPLERS.get(solver).Options)]


def option_takers(name: str) -> list[str]:
    """The solvers that have an option called `name`."""
    return [s for s in SAMPLERS.names() if name in option_names(s)]


def flag(name: str) -> str:
    """The command-line spelling of an option: corrector_steps -> --corrector-steps."""
    return "--" + name.replace("_", "-")


def finite(**values: float) -> None:
    """Each named option must be a finite number."""
    for k, v in values.items():
        if not math.isfinite(v):
            raise DiffcliError(f"{flag(k)} must be a finite number, got {v}")


class Sampler:
    """How one sampler runs; see the module docstring. One instance per registry entry."""

    needs: frozenset[str] = frozenset()
    Options: type[Options] = Options
    summary: str = ""  # one line: the algorithm and where it comes from
    adaptive: bool = False  # takes tolerances (an error estimate and step-size control) instead of steps
    default_steps: int | None = None  # None: the caller's default
    ends_at_data: bool = False  # its last step lands on t = 0 (clean data), not on process.t0
    order: int | None = None  # global convergence order at its default options; None when stochastic

    def steps_for(self, process) -> int | None:
        """Its default step count on this process (None: the caller's default)."""
        return self.default_steps

    def deterministic(self, options) -> bool:
        """Its samples are a function of the prior draw alone (no noise of its own)."""
        return self.order is not None

    def check(self, plan: SolverPlan, process) -> None:
        """Further fit checks beyond capabilities (DiffcliError)."""

    def times(self, process, plan: SolverPlan):
        """The time grid from t1 down to the sampler's end: steps + 1 points. A sampler that ends
        on the data calls the network only inside the trained interval [t0, t1]: its grid runs from
        t1 to t0 in steps − 1 steps, and a last step goes from t0 to t = 0."""
        import jax.numpy as jnp

        from diffcli.sampling.grids import GRIDS

        grid, t1, t0 = GRIDS.get(plan.grid), float(process.t1), float(process.t0)
        if plan.grid_times is not None:  # a fitted grid is the whole grid, last step included
            return jnp.asarray(plan.grid_times)
        if not self.ends_at_data:
            return jnp.asarray(grid(process, plan, plan.steps, t1, t0))
        if t0 <= 0 or plan.steps == 1:
            return jnp.asarray(grid(process, plan, plan.steps, t1, 0.0))
        return jnp.concatenate([jnp.asarray(grid(process, plan, plan.steps - 1, t1, t0)), jnp.zeros(1)])

    def solve(self, ctx: Context) -> Solve:
        """Traced inside the compiled program: from ctx.x1 (the prior draw at t1) to the end."""
        raise NotImplementedError

    def nfe(self, plan: SolverPlan, steps: int) -> int:
        """Network evaluations of a solve that attempted `steps` steps (exact)."""
        raise NotImplementedError


SAMPLERS: Registry[Sampler] = Registry("solver", package="diffcli.sampling.samplers")


def fits(spec: Sampler, process) -> bool:
    return spec.needs <= process.capabilities


def accepted(process) -> list[str]:
    """Every sampler this process has the capabilities for, sorted by name."""
    return [n for n in SAMPLERS.names() if fits(SAMPLERS.get(n), process)]


def default_solver(process) -> str:
    """The solver `sample` and `plot` use when none is named: heun where the model has an ODE,
    else the first it accepts."""
    ok = accepted(process)
    return "heun" if "heun" in ok else ok[0]


def check_fits(plan: SolverPlan, process) -> None:
    """DiffcliError, one line naming the accepted solvers, when plan.solver cannot run on process."""
    spec = SAMPLERS.get(plan.solver)
    missing = sorted(spec.needs - process.capabilities)
    if missing:
        raise DiffcliError(
            f"solver {plan.solver!r} does not fit model {process.name!r}: it needs "
            f"{' and '.join(NEEDS.get(m, m) for m in missing)}; this model accepts: {', '.join(accepted(process))}"
        )
    spec.check(plan, process)
