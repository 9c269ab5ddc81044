"""Class accuracy: the share of samples that the data set's classifier (classifier.py) puts in the
class they were asked for. Its data floor is the classifier's own accuracy on held-out data."""

from __future__ import annotations

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.metrics.base import METRICS, Metric
from diffcli.metrics.blocks import point_pair


def accuracy(a, b, labels, classifier) -> float:
    """Share of the samples a (n, *shape) classified as labels (n,); b (the reference data) only
    has to live in the same space."""
    a, _ = point_pair(a, b)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != a.shape[0]:
        raise DiffcliError(f"{a.shape[0]} samples but {labels.shape[0]} labels")
    return float(np.mean(classifier.predict(a) == labels))


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def _brute(a, b, labels, classifier) -> float:
    """The classifier's forward pass written out in float64 NumPy, one sample at a time."""
    p = {k: np.asarray(v, np.float64) for k, v in classifier.params.items()}
    right = 0
    for x, y in zip(np.asarray(a, np.float64).reshape(len(a), -1), labels):
        h = _gelu(_gelu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"])
        right += int(np.argmax(h @ p["w3"] + p["b3"]) == int(y))
    return right / len(labels)


METRICS.register("acc")(Metric(
    "Acc", accuracy, "class accuracy: the share of samples a classifier of the data puts in the class asked for",
    digits=4, brute=_brute, uses_labels=True, uses_classifier=True, higher_is_better=True,
))
