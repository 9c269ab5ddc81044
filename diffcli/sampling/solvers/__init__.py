"""Solvers by name. Each lives in its own module and registers itself."""

from diffcli.sampling.solvers import dopri5, euler, heun, tsit5  # noqa: F401
from diffcli.sampling.solvers.base import ODE_SOLVERS, OdeSolver

__all__ = ["ODE_SOLVERS", "OdeSolver"]
