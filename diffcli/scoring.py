"""Scores of samples against fresh data, and the data's own floor, for any selected metrics.

Samples of seed s are scored against n fresh data points drawn with fold_in(key(s),
REFERENCE_SALT), independent of the sampler's noise. The floor is what two independent n-point
draws of the data score against each other (the second draw with FLOOR_SALT), over several
pairs: no model can be expected to do better than its data's own sampling noise. The metrics that
judge with the data's classifier (fd, acc), which was trained on the training points, score n
points held out of training (FLOOR_SALT) against the reference draw instead, the held-out points
asked for their own labels.
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


def score(dataset, samples, seed: int, metrics: Iterable[str] = DEFAULT_METRICS, labels=None) -> dict[str, float]:
    """{metric: value} of samples (n, *shape) against fresh data of the seed; `labels`: the class
    each sample was asked for (a class-conditional model's)."""
    return evaluate(samples, reference_data(dataset, samples.shape[0], seed), metrics, bandwidth(dataset),
                    labels=labels, dataset=dataset)


def held_out_points(dataset, n: int, pair: int, labelled: bool):
    """The floor's n held-out points of one pair, and their labels where asked (else None)."""
    key = jax.random.fold_in(jax.random.key(pair), FLOOR_SALT)
    if labelled:
        return dataset.labelled_sample(key, n, held_out=True)
    return dataset.held_out_sample(key, n), None


def data_floor(dataset, n: int, pairs: int, metrics: Iterable[str] = DEFAULT_METRICS, cache: str | None = None) -> Floor:
    """Each metric between two independent n-point data draws (a classifier's metric: n held-out
    points against the reference draw), over `pairs` pairs of draws.

    cache: a text that names the data set exactly (its resolved config, data files by sha256);
    each metric's values are then kept in the user's cache directory and reused, since they
    depend on nothing else (a deterministic function of the data set, n, the pairs' keys and the
    metric's code)."""
    metrics = tuple(metrics)
    path = _floor_path(cache, n, pairs, bandwidth(dataset)) if cache is not None else None
    values: dict[str, list[float]] = _read_floor(path) if path is not None else {}
    todo = [m for m in metrics if not (isinstance(values.get(m), list) and len(values[m]) == pairs)]
    if todo:
        for m in todo:
            values[m] = []
        from diffcli.metrics import METRICS

        judged = [m for m in todo if METRICS.get(m).uses_classifier]
        plain = [m for m in todo if m not in judged]
        labelled = any(METRICS.get(m).uses_labels for m in judged)
        for s in range(pairs):
            ref = reference_data(dataset, n, s)
            other = dataset.sample(jax.random.fold_in(jax.random.key(s), FLOOR_SALT), n) if plain else None
            got = evaluate(ref, other, plain, bandwidth(dataset)) if plain else {}
            if judged:  # the classifier learnt the training points: it judges held-out ones
                held, labels = held_out_points(dataset, n, s, labelled)
                got |= evaluate(held, ref, judged, bandwidth(dataset), labels=labels, dataset=dataset)
            for k in todo:
                values[k].append(got[k])
        if path is not None:
            _write_floor(path, values)
    return Floor({k: float(np.mean(values[k])) for k in metrics}, {k: spread(values[k]) for k in metrics}, pairs)


FLOOR_CACHE_VERSION = 2  # raise when a metric's or a data set's code changes what it computes


def _floor_path(cache: str, n: int, pairs: int, sigma: float):
    import hashlib

    from diffcli import __version__
    from diffcli.classifier import VERSION as CLASSIFIER
    from diffcli.jaxsetup import cache_dir

    key = (f"{cache}|n={n}|pairs={pairs}|sigma={sigma!r}|{REFERENCE_SALT}|{FLOOR_SALT}|{__version__}|"
           f"{FLOOR_CACHE_VERSION}|{CLASSIFIER}")
    return cache_dir().parent / "floors" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _read_floor(path) -> dict[str, list[float]]:
    import json

    try:
        got = json.loads(path.read_text())
        return {k: [float(x) for x in v] for k, v in got.items()}
    except (OSError, ValueError, TypeError, AttributeError):  # absent or damaged: compute it again
        return {}


def _write_floor(path, values: dict[str, list[float]]) -> None:
    from diffcli.runs import write_json

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, values)
    except OSError:  # a read-only cache costs time, never a result
        pass


def floor_cache_key(cfg) -> str:
    """The text that names a run's data set exactly, for data_floor's cache."""
    import json

    return json.dumps([cfg.data.name, cfg.data.options], sort_keys=True, default=str)


def spread(values) -> float:
    """The sample standard deviation of the values over seeds or pairs (ddof = 1); NaN for one
    value, which has no spread to estimate (tables show "—")."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
