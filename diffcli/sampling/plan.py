"""What the user asked the integrator to do: a solver with its options, and either fixed steps
on a time grid or tolerances for a PID step-size controller (as diffrax keeps solver and
controller apart).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from diffcli.config import SampleConfig
from diffcli.errors import DiffcliError, choice_error
from diffcli.limits import GRID_POWER, GRID_RHO, MAX_MAX_STEPS, MAX_STEPS, PID_COEFF, check_count, check_range
from diffcli.registry import check_options
from diffcli.sampling.norms import NORMS
from diffcli.sampling.registry import SAMPLERS, Options, check_fits, flag, option_names, option_takers

DEFAULT_STEPS = 20  # fixed steps when neither the user nor the sampler names a number


@dataclass(frozen=True)
class SolverPlan:
    """solver (with its options) at fixed `steps` on a time grid, or adaptive with PID control at
    (rtol, atol). The grid's defaults are the [sample] config's."""

    solver: str
    steps: int | None = None
    rtol: float | None = None
    atol: float | None = None
    grid: str = SampleConfig.grid
    grid_power: float = SampleConfig.grid_power
    grid_rho: float = SampleConfig.grid_rho
    grid_times: tuple[float, ...] | None = None  # the fitted grid's times (grid = fitted)
    # the PID step-size controller of adaptive solves (diffrax.PIDController)
    pcoeff: float = 0.0
    icoeff: float = 1.0
    dcoeff: float = 0.0
    max_steps: int = 4096
    dt0_frac: float | None = None  # first adaptive step as a fraction of the interval; None: automatic
    norm: str = "max"  # adaptive error norm over the batch: max (worst sample's RMS) | rms (all numbers)
    options: Options = field(default_factory=Options)  # the solver's own (SAMPLERS.get(solver).Options)

    def __post_init__(self):
        if type(self.options) is Options:  # none given: the solver's defaults
            object.__setattr__(self, "options", SAMPLERS.get(self.solver).Options())

    @property
    def adaptive(self) -> bool:
        return self.steps is None

    def label(self, short: bool = False) -> str:
        """'heun 10 steps power^1.5', 'tsit5 adaptive tol 0.01'; short: 'heun 10', 'tsit5 tol 0.01'
        (for tables whose title names the grid)."""
        opts = self.options.label()
        if self.adaptive:
            tol = f"tol {self.rtol:g}" if self.rtol == self.atol else f"rtol {self.rtol:g} atol {self.atol:g}"
            tol += "" if self.norm == "max" else f" {self.norm}"
            for k in ("pcoeff", "icoeff", "dcoeff", "max_steps", "dt0_frac"):  # the controller, where not default
                if getattr(self, k) != CONTROLLER_DEFAULTS[k]:
                    tol += f" {k.replace('_', '-')} {getattr(self, k):g}"
            return (f"{self.solver} {tol}" if short else f"{self.solver} adaptive {tol}") + opts
        if short:
            return f"{self.solver} {self.steps}{opts}"
        return f"{self.solver} {self.steps} steps{self.grid_label(' ')}{opts}"

    def grid_label(self, lead: str = "") -> str:
        """'power^1.5', 'edm^7', 'logsnr', 'fitted'; '' for the uniform grid (and adaptive solves)."""
        if self.adaptive or self.grid == "uniform":
            return ""
        exp = {"power": self.grid_power, "edm": self.grid_rho}.get(self.grid)
        return lead + self.grid + ("" if exp is None else f"^{exp:g}")

    def record(self) -> dict[str, Any]:
        """The plan as plain JSON values (options as a dict)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "options"}
        d["grid_times"] = None if self.grid_times is None else list(self.grid_times)
        return d | {"options": dataclasses.asdict(self.options)}


def make_options(solver: str, given: dict[str, Any] | None) -> Options:
    """The solver's Options from {name: value}: unknown names and wrong types are one-line errors
    naming what the solver takes (and which solvers take the unknown one); ranges are checked by
    the Options class itself."""
    spec = SAMPLERS.get(solver)
    given = dict(given or {})
    for k in given:
        if k not in option_names(solver):
            takers = option_takers(k)
            hint = f" ({flag(k)} is an option of {', '.join(takers)})" if takers else ""
            mine = ", ".join(flag(o) for o in option_names(solver)) or "none"
            raise DiffcliError(f"solver {solver!r} takes no option {flag(k)}{hint}; its options: {mine}")
        if given[k] is None:
            raise DiffcliError(f"{flag(k)} needs a value, e.g. {flag(k)} {getattr(spec.Options(), k)!r}")
    return spec.Options(**check_options(spec.Options, given, f"solver {solver!r}", "--"))


def make_plan(solver: str, steps: int | None = None, rtol: float | None = None, atol: float | None = None,
              *, options: dict[str, Any] | None = None, process=None, default_steps: int = DEFAULT_STEPS,
              **kw) -> SolverPlan:
    """Resolve and check a user's choice. Tolerances only for solvers with an error estimate;
    steps and tolerances are exclusive; with neither, the sampler's own default steps (ancestral:
    1000, the reverse-SDE, pc and bridge samplers: 200) or else `default_steps` fixed steps.
    `options` are the solver's own (its Options class). `kw`: the grid and the controller
    (SolverPlan's fields). With `process`, also check that the solver fits that model."""
    spec = SAMPLERS.get(solver)
    opts = make_options(solver, options)
    _check_controller(kw)
    tol_given = rtol is not None or atol is not None
    if steps is not None and tol_given:
        raise DiffcliError("give either --steps (fixed steps) or --rtol/--atol (adaptive), not both")
    if tol_given:
        if not spec.adaptive:
            adaptive = [n for n in SAMPLERS.names() if SAMPLERS.get(n).adaptive]
            raise DiffcliError(f"solver {solver!r} has no error estimate, so it takes --steps, not tolerances; "
                               f"adaptive solvers: {', '.join(adaptive)}")
        for name, v in (("rtol", rtol), ("atol", atol)):  # check what was given, then fill in
            if v is not None and not 0 < v < 1:
                raise DiffcliError(f"--{name} must be in (0, 1), got {v:g}")
        rtol = atol if rtol is None else rtol
        atol = rtol if atol is None else atol
        plan = SolverPlan(solver, None, float(rtol), float(atol), options=opts, **kw)
    else:
        own = spec.steps_for(process) if process is not None else spec.default_steps
        steps = (own or default_steps) if steps is None else steps
        if steps <= 0:
            raise DiffcliError(f"--steps must be a positive integer, got {steps}")
        check_count(steps, "--steps", 1, MAX_STEPS)
        plan = SolverPlan(solver, int(steps), options=opts, **kw)
    if process is not None:
        check_fits(plan, process)
    return plan


def steps_for_nfe(solver: str, nfe: int, options: dict[str, Any] | None = None) -> int:
    """The most fixed steps of `solver` whose NFE is at most `nfe` (a budget too small for one
    step is a one-line error naming the least it takes)."""
    spec, plan = SAMPLERS.get(solver), make_plan(solver, steps=1, options=options)
    check_count(nfe, "an NFE budget", 1, MAX_STEPS)
    least = spec.nfe(plan, 1)
    if nfe < least:
        raise DiffcliError(f"NFE {nfe} is too few for {solver}: one step takes {least}")
    steps = 1
    while spec.nfe(plan, steps + 1) <= nfe:
        steps += 1
    return steps


def _check_controller(kw: dict[str, Any]) -> None:
    unknown = set(kw) - {f.name for f in dataclasses.fields(SolverPlan)}
    if unknown:
        raise TypeError(f"make_plan got unexpected arguments {sorted(unknown)}")
    if kw.get("norm", "max") not in NORMS:
        raise choice_error("norm", kw["norm"], NORMS)
    if "grid_power" in kw:
        check_range(kw["grid_power"], "--grid-power", *GRID_POWER)
    if "grid_rho" in kw:
        check_range(kw["grid_rho"], "--grid-rho", *GRID_RHO)
    for k in ("pcoeff", "icoeff", "dcoeff"):
        if k in kw:
            check_range(kw[k], flag(k), -PID_COEFF, PID_COEFF)
    if "max_steps" in kw:
        check_count(kw["max_steps"], "--max-steps", 1, MAX_MAX_STEPS)
    if kw.get("dt0_frac") is not None:
        check_range(kw["dt0_frac"], "--dt0-frac", 1e-9, 1.0)


CONTROLLER_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SolverPlan)}
