"""What a sampler returns (kept light: the exported-program path imports it without diffrax)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleResult:
    samples: np.ndarray  # (n, *shape) at the sampler's end
    nfe: int  # network evaluations, exact
    steps: int  # attempted steps
    accepted: int
    rejected: int
    seconds: float  # wall time of the compiled call (compile excluded)
    trajectories: np.ndarray | None = None  # (k, T, *shape), from t1 to the end
    traj_times: np.ndarray | None = None  # (T,)
    labels: np.ndarray | None = None  # (n,) the class each sample was asked for (conditional models)
