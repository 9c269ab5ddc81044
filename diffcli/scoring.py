"""Scores of samples against fresh data, and the data's own floor, for any selected metrics.

Samples of seed s are scored against n fresh data points drawn with fold_in(key(s),
REFERENCE_SALT), independent of the sampler's noise. The floor is what two independent n-point
draws of the data score against each other (the second draw with FLOOR_SALT), over several
pairs: no model can be expected to do better than its data's own sampling noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jax
import numpy as np

from diffcli.metrics import DEFAULT_METRICS, evaluate

REFERENCE_SALT = 0x5EED
FLOOR_SALT = 0xF100


def reference_data(dataset, n: int, seed: int):
    """Fresh data to score samples of `seed` against, independent of the sampler's noise."""
    return dataset.sample(jax.random.fold_in(jax.random.key(seed), REFERENCE_SALT), n)


@dataclass(frozen=True)
class Floor:
    """Mean and sample standard deviation (over the pairs, ddof = 1) of each metric between
    independent data draws."""

    mean: dict[str, float]
    sd: dict[str, float]
    pairs: int

    def flat(self) -> dict[str, float]:
        """{'cd': mean, 'cd_sd': sd, …, 'pairs': k}: the layout of bench.json and the sample JSON."""
        out: dict[str, float] = {}
        for k in self.mean:
            out[k], out[f"{k}_sd"] = self.mean[k], self.sd[k]
        return out | {"pairs": self.pairs}


BANDWIDTH_POINTS = 1000
_BANDWIDTHS: dict = {}  # data set -> its bandwidth (the data set itself is the key: no id reuse)


def bandwidth(dataset) -> float:
    """The kernel bandwidth of MMD² on this data set: its own (the cat's 0.5), else the median
    distance between BANDWIDTH_POINTS of its points (drawn with a fixed key: the same for every
    seed, every sample and the floor)."""
    if dataset.mmd_sigma is not None:
        return float(dataset.mmd_sigma)
    if dataset not in _BANDWIDTHS:
        x = np.asarray(dataset.sample(jax.random.key(0x5161), BANDWIDTH_POINTS), np.float64).reshape(BANDWIDTH_POINTS, -1)
        d2 = (x**2).sum(1)[:, None] + (x**2).sum(1)[None, :] - 2 * x @ x.T
        dist = np.sqrt(np.maximum(d2[np.triu_indices(BANDWIDTH_POINTS, 1)], 0.0))
        _BANDWIDTHS[dataset] = float(np.median(dist)) or 1.0
    return _BANDWIDTHS[dataset]


def score(dataset, samples, seed: int, metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, float]:
    """{metric: value} of samples (n, *shape) against fresh data of the seed."""
    return evaluate(samples, reference_data(dataset, samples.shape[0], seed), metrics, bandwidth(dataset))


def data_floor(dataset, n: int, pairs: int, metrics: Iterable[str] = DEFAULT_METRICS) -> Floor:
    """Each metric between two independent n-point data draws, over `pairs` pairs of draws."""
    metrics = tuple(metrics)
    values: dict[str, list[float]] = {m: [] for m in metrics}
    for s in range(pairs):
        a = reference_data(dataset, n, s)
        b = dataset.sample(jax.random.fold_in(jax.random.key(s), FLOOR_SALT), n)
        for k, v in evaluate(a, b, metrics, bandwidth(dataset)).items():
            values[k].append(v)
    return Floor({k: float(np.mean(v)) for k, v in values.items()}, {k: spread(v) for k, v in values.items()}, pairs)


def spread(values) -> float:
    """The sample standard deviation of the values over seeds or pairs (ddof = 1); NaN for one
    value, which has no spread to estimate (tables show "—")."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
