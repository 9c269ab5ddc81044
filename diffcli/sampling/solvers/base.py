"""An ODE solver entry: the diffrax solver plus the facts needed to count its NFE.

diffrax reports steps, not network evaluations, so each entry states how many evaluations
one attempted step costs (FSAL reuse already subtracted) and how many come before the first
step: NFE = evals_per_step·(accepted + rejected) + initial_evals. Adaptive solves are given
their first step explicitly (SolverPlan.dt0_frac), so no step-size probe adds evaluations.
tests/sampling/test_nfe.py checks every entry against a vector field that counts its calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import diffrax

from diffcli.registry import Registry

@dataclass(frozen=True)
class OdeSolver:
    name: str
    make: Callable[[], diffrax.AbstractSolver]
    order: int
    evals_per_step: int
    initial_evals: int = 0  # FSAL solvers evaluate f(t0, y0) once before stepping
    adaptive: bool = False  # has an embedded error estimate, so PID step control works

    def nfe(self, num_steps: int) -> int:
        return self.evals_per_step * num_steps + self.initial_evals


ODE_SOLVERS: Registry[OdeSolver] = Registry("solver")
