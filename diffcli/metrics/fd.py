"""Fréchet distance in a classifier's features (FD; FID with the data set's own classifier,
classifier.py, in the place of Inception): Gaussians fitted to the penultimate-layer features of
the samples and of the reference data, compared in closed form,

    FD = |μ_a − μ_b|² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)      (Heusel et al. 2017).

The matrix square root is scipy.linalg.sqrtm's; its tiny imaginary part (round-off) is dropped.
"""

from __future__ import annotations

import numpy as np

from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import point_pair


def frechet(fa: np.ndarray, fb: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets fa (n, k) and fb (m, k)."""
    from scipy import linalg

    mu_a, mu_b = fa.mean(0), fb.mean(0)
    ca, cb = np.atleast_2d(np.cov(fa, rowvar=False)), np.atleast_2d(np.cov(fb, rowvar=False))
    root = linalg.sqrtm(ca @ cb)
    root = np.real(root)
    return float(max(((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2.0 * root), 0.0))


def fd(a, b, classifier) -> float:
    a, b = point_pair(a, b)
    return frechet(classifier.features(a), classifier.features(b))


def _brute(a, b, classifier) -> float:
    """The same through the eigenvalues: tr((Σ_a Σ_b)^½) = Σ sqrt(eig(Σ_a Σ_b)) (real, >= 0)."""
    fa, fb = (classifier.features(np.asarray(v).reshape(len(v), -1)) for v in (a, b))
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    ev = np.linalg.eigvals(ca @ cb)
    return float(((fa.mean(0) - fb.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb)
                 - 2.0 * np.sqrt(np.clip(ev.real, 0, None)).sum())


METRICS.register("fd")(Metric(
    "FD", fd, "Fréchet distance in the penultimate features of a classifier of the data (FID's recipe, local)",
    digits=3, brute=_brute, uses_classifier=True,
))
