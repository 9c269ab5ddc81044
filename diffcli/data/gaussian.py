"""A Gaussian N(mean, cov) in any dimension: the data set whose every score is known in closed form.

Options (data.mean, data.cov in the config): the mean as a list and the covariance as a list
of rows. The default is a correlated 2-D Gaussian at the cat's scale, off centre so that a
sampler that loses the mean shows it. processes/oracle.py holds the ideal networks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.data.base import DATASETS, Dataset
from diffcli.errors import DiffcliError

DEFAULT_MEAN = (0.5, -0.25)
DEFAULT_COV = ((1.0, 0.5), (0.5, 0.75))


@dataclass(frozen=True, eq=False, kw_only=True)
class GaussianData(Dataset):
    mean: np.ndarray  # (dim,) float64
    cov: np.ndarray  # (dim, dim) float64


@DATASETS.register("gaussian")
def gaussian(mean: list[float] | None = None, cov: list[list[float]] | None = None) -> GaussianData:
    m = np.asarray(DEFAULT_MEAN if mean is None else mean, dtype=np.float64)
    c = np.asarray(DEFAULT_COV if cov is None else cov, dtype=np.float64)
    if mean is not None and cov is None:
        c = np.eye(m.shape[0])  # a mean alone: unit covariance in its dimension
    if m.ndim != 1 or m.shape[0] == 0:
        raise DiffcliError(f"data.mean must be a non-empty list of numbers, got shape {m.shape}")
    if c.shape != (m.shape[0], m.shape[0]):
        raise DiffcliError(f"data.cov must be {m.shape[0]}x{m.shape[0]} to match data.mean, got shape {c.shape}")
    if not np.allclose(c, c.T):
        raise DiffcliError("data.cov must be symmetric")
    evals = np.linalg.eigvalsh(c)
    if evals.min() <= 0:
        raise DiffcliError(f"data.cov must be positive definite; its smallest eigenvalue is {evals.min():g}")
    chol = jnp.asarray(np.linalg.cholesky(c), jnp.float32)
    mu = jnp.asarray(m, jnp.float32)

    def sample(key: jax.Array, n: int) -> jax.Array:
        return mu + jax.random.normal(key, (n, m.shape[0])) @ chol.T

    return GaussianData("gaussian", (int(m.shape[0]),), sample, mean=m, cov=c)
