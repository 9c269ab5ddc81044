"""The checks every solve's result goes through (kept light: the exported-program path imports it
without diffrax)."""

from __future__ import annotations

import jax
import numpy as np

from diffcli.errors import SolverError


def check_solve(label: str, ok, limit, values, max_steps: int,
                remedy: str = "loosen the tolerances or raise --max-steps") -> None:
    """SolverError (exit 3, one line) unless the solve succeeded with finite values."""
    if not bool(ok):
        why = f"hit its step limit (max_steps={max_steps})" if bool(limit) else "failed"
        raise SolverError(f"{label} {why}; {remedy}")
    if not all(np.isfinite(np.asarray(v)).all() for v in jax.tree.leaves(values)):
        raise SolverError(f"{label} produced non-finite values; use more steps or tighter tolerances")
