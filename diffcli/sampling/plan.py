"""What the user asked the integrator to do: a solver, and fixed steps or tolerances."""

from __future__ import annotations

from dataclasses import dataclass

from diffcli.errors import DiffcliError


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

    @property
    def adaptive(self) -> bool:
        return self.steps is None

    def label(self) -> str:
        if self.adaptive:
            tol = f"tol {self.rtol:g}" if self.rtol == self.atol else f"rtol {self.rtol:g} atol {self.atol:g}"
            return f"{self.solver} adaptive {tol}"
        grid = "" if self.grid == "uniform" else f" {self.grid}" + (f"^{self.grid_power:g}" if self.grid == "power" else "")
        return f"{self.solver} {self.steps} steps{grid}"


def make_plan(solver: str, steps: int | None = None, rtol: float | None = None, atol: float | None = None,
              default_steps: int = 20, **kw) -> SolverPlan:
    """Resolve and check a user's choice. Tolerances only for solvers with an error estimate;
    steps and tolerances are exclusive; with neither, `default_steps` fixed steps."""
    from diffcli.sampling.solvers import ODE_SOLVERS

    spec = ODE_SOLVERS.get(solver)
    tol_given = rtol is not None or atol is not None
    if steps is not None and tol_given:
        raise DiffcliError("give either --steps (fixed steps) or --rtol/--atol (adaptive), not both")
    if tol_given:
        if not spec.adaptive:
            adaptive = [n for n in ODE_SOLVERS.names() if ODE_SOLVERS.get(n).adaptive]
            raise DiffcliError(f"solver {solver!r} has no error estimate, so it takes --steps, not tolerances; adaptive solvers: {', '.join(adaptive)}")
        rtol = atol if rtol is None else rtol
        atol = rtol if atol is None else atol
        for name, v in (("rtol", rtol), ("atol", atol)):
            if not 0 < v < 1:
                raise DiffcliError(f"{name} must be in (0, 1), got {v:g}")
        return SolverPlan(solver, None, float(rtol), float(atol), **kw)
    steps = default_steps if steps is None else steps
    if steps <= 0:
        raise DiffcliError(f"--steps must be a positive integer, got {steps}")
    return SolverPlan(solver, int(steps), **kw)
