"""What the user asked the integrator to do: a solver, and fixed steps or tolerances.

Solvers are every sampler in sampling/samplers.py; eta (DDIM), snr and corrector_steps
(predictor–corrector) are read only by the samplers that name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from diffcli.errors import DiffcliError


ADAPTIVE_NORMS = ("max", "rms")  # implemented in sampling/ode.py


@dataclass(frozen=True)
class SolverPlan:
    """solver at fixed `steps` on a time grid, or adaptive with PID control at (rtol, atol)."""

    solver: str
    steps: int | None = None
    rtol: float | None = None
    atol: float | None = None
    grid: str = "uniform"
    grid_power: float = 2.0
    pcoeff: float = 0.0
    icoeff: float = 1.0
    dcoeff: float = 0.0
    max_steps: int = 4096
    dt0_frac: float = 0.01  # first adaptive step, as a fraction of the interval
    norm: str = "max"  # adaptive error norm over the batch: max (worst sample's RMS) | rms (all numbers)
    eta: float = 0.0  # ddim: 0 deterministic … 1 ancestral
    snr: float = 0.16  # pc: the Langevin corrector's signal-to-noise ratio
    corrector_steps: int = 1  # pc: Langevin steps per time step

    @property
    def adaptive(self) -> bool:
        return self.steps is None

    def label(self, short: bool = False) -> str:
        """'heun 10 steps power^1.5', 'tsit5 adaptive tol 0.01'; short: 'heun 10', 'tsit5 tol 0.01'
        (for tables whose title names the grid)."""
        if self.adaptive:
            tol = f"tol {self.rtol:g}" if self.rtol == self.atol else f"rtol {self.rtol:g} atol {self.atol:g}"
            tol += "" if self.norm == "max" else f" {self.norm}"
            return f"{self.solver} {tol}" if short else f"{self.solver} adaptive {tol}"
        if short:
            return f"{self.solver} {self.steps}{self._options_label()}"
        grid = "" if self.grid == "uniform" else f" {self.grid}" + (f"^{self.grid_power:g}" if self.grid == "power" else "")
        return f"{self.solver} {self.steps} steps{grid}{self._options_label()}"

    def _options_label(self) -> str:
        from diffcli.sampling.registry import OPTION_LABELS
        from diffcli.sampling.samplers import SAMPLERS

        if self.solver not in SAMPLERS:
            return ""
        return "".join(" " + OPTION_LABELS[o].format(getattr(self, o)) for o in SAMPLERS.get(self.solver).options)


def make_plan(solver: str, steps: int | None = None, rtol: float | None = None, atol: float | None = None,
              default_steps: int = 20, *, eta: float | None = None, snr: float | None = None,
              corrector_steps: int | None = None, process=None, **kw) -> SolverPlan:
    """Resolve and check a user's choice. Tolerances only for solvers with an error estimate;
    steps and tolerances are exclusive; with neither, the sampler's own default steps (ancestral:
    1000, the reverse-SDE, pc and bridge samplers: 200) or else `default_steps` fixed steps.
    eta, snr and corrector_steps (None: not given) only for the samplers that read them. With
    `process`, also check that the solver fits that model (sampling/registry.py check_fits)."""
    from diffcli.sampling.samplers import SAMPLERS, check_fits

    spec = SAMPLERS.get(solver)
    options = {k: v for k, v in (("eta", eta), ("snr", snr), ("corrector_steps", corrector_steps)) if v is not None}
    for k in options:
        if k not in spec.options:
            takers = [n for n in SAMPLERS.names() if k in SAMPLERS.get(n).options]
            raise DiffcliError(f"--{k.replace('_', '-')} applies to solver {', '.join(takers)} only, not {solver!r}")
    if not 0 <= options.get("eta", 0.0) <= 1:
        raise DiffcliError(f"--eta must be in [0, 1] (0: deterministic DDIM, 1: ancestral), got {eta:g}")
    if not options.get("snr", 1.0) > 0:
        raise DiffcliError(f"--snr must be > 0, got {snr:g}")
    if options.get("corrector_steps", 1) < 1:
        raise DiffcliError(f"--corrector-steps must be a positive integer, got {corrector_steps}")
    if kw.get("norm", "max") not in ADAPTIVE_NORMS:
        raise DiffcliError(f"unknown norm {kw['norm']!r}; accepted: {', '.join(ADAPTIVE_NORMS)}")
    if not kw.get("grid_power", 1.0) > 0:
        raise DiffcliError(f"--grid-power must be > 0, got {kw['grid_power']:g}")
    kw.update(options)
    plan = _resolve(spec, solver, steps, rtol, atol, spec.default_steps or default_steps, **kw)
    if process is not None:
        check_fits(plan, process)
    return plan


def _resolve(spec, solver, steps, rtol, atol, default_steps, **kw) -> SolverPlan:
    from diffcli.sampling.samplers import SAMPLERS

    tol_given = rtol is not None or atol is not None
    if steps is not None and tol_given:
        raise DiffcliError("give either --steps (fixed steps) or --rtol/--atol (adaptive), not both")
    if tol_given:
        if not spec.adaptive:
            adaptive = [n for n in SAMPLERS.names() if SAMPLERS.get(n).adaptive]
            raise DiffcliError(f"solver {solver!r} has no error estimate, so it takes --steps, not tolerances; adaptive solvers: {', '.join(adaptive)}")
        for name, v in (("rtol", rtol), ("atol", atol)):  # check what was given, then fill in
            if v is not None and not 0 < v < 1:
                raise DiffcliError(f"--{name} must be in (0, 1), got {v:g}")
        rtol = atol if rtol is None else rtol
        atol = rtol if atol is None else atol
        return SolverPlan(solver, None, float(rtol), float(atol), **kw)
    steps = default_steps if steps is None else steps
    if steps <= 0:
        raise DiffcliError(f"--steps must be a positive integer, got {steps}")
    return SolverPlan(solver, int(steps), **kw)
