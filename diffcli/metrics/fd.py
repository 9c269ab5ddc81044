"""Fréchet distance in a classifier's features (FD; FID with the data set's own classifier,
classifier.py, in the place of Inception): Gaussians fitted to the penultimate-layer features of
the samples and of the reference data, compared in closed form,

    FD = |μ_a − μ_b|² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)      (Heusel et al. 2017).

The trace of the matrix square root is computed as tr((Σ_a^½ Σ_b Σ_a^½)^½), the same number (the
two matrices are similar), from symmetric eigendecompositions alone (numpy.linalg.eigh): it stays
real and exact for singular covariances (samples of one class, fewer points than features), where
a general matrix square root warns and loses accuracy. The direct definition the tests check it
against is scipy.linalg.sqrtm of Σ_a Σ_b.
"""

from __future__ import annotations

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import point_pair


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet(fa: np.ndarray, fb: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets fa (n, k) and fb (m, k)."""
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    ca, cb = np.atleast_2d(np.cov(fa, rowvar=False)), np.atleast_2d(np.cov(fb, rowvar=False))
    ra = _psd_sqrt(ca)
    inner = ra @ cb @ ra
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    return float(max(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2.0 * cross, 0.0))


def fd(a, b, classifier) -> float:
    a, b = point_pair(a, b)
    if min(len(a), len(b)) < 2:
        raise DiffcliError(f"the Fréchet distance fits a covariance to each set: it needs at least 2 points in each, "
                           f"got {len(a)} and {len(b)}; use a larger --n")
    return frechet(classifier.features(a), classifier.features(b))


def _brute(a, b, classifier) -> float:
    """The textbook formula: scipy's general matrix square root of Σ_a Σ_b, its real part."""
    import warnings

    from scipy import linalg

    fa, fb = (classifier.features(np.asarray(v).reshape(len(v), -1)) for v in (a, b))
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # singular covariances: the tests' sets have rank < features
        root = np.real(linalg.sqrtm(ca @ cb))
    return float(((fa.mean(0) - fb.mean(0)) ** 2).sum() + np.trace(ca + cb - 2.0 * root))


METRICS.register("fd")(Metric(
    "FD", fd, "Fréchet distance in the penultimate features of a classifier of the data (FID's recipe, local)",
    digits=3, brute=_brute, uses_classifier=True,
))
