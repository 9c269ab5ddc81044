"""Sample-quality metrics between point sets: Chamfer distance and Gaussian-kernel MMD^2.

Both run in row blocks of jitted JAX kernels, so memory stays bounded for large sets.
"""

from __future__ import annotations

from diffcli.metrics.chamfer import chamfer_distance
from diffcli.metrics.mmd import mmd2

__all__ = ["chamfer_distance", "mmd2", "evaluate"]


def evaluate(samples, reference, sigma: float = 0.5, block: int | None = None) -> dict[str, float]:
    """{"cd": Chamfer distance, "mmd2": MMD^2} between samples (n, d) and reference (m, d)."""
    return {
        "cd": chamfer_distance(samples, reference, block=block),
        "mmd2": mmd2(samples, reference, sigma=sigma, block=block),
    }
