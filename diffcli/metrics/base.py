"""The metric interface and the METRICS registry.

A metric is one file in diffcli/metrics/ that registers a Metric: its name (`--metrics cd,w2`),
how it is computed from (samples, reference) point sets, how it is shown (a column label and
the digits to print), and a direct float64 definition that the test suite checks it against
on small sets. Points of any shape (n, *shape) are compared as flat vectors (n, d).

A metric may need more than two point sets: `uses_labels` (compute(a, b, labels=y): the class
each sample was asked for) and `uses_classifier` (compute(a, b, classifier=c): the data set's
classifier, classifier.py); such a metric needs labelled data. `higher_is_better` flips what
"best" means in tables (class accuracy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from diffcli.registry import Registry

DEFAULT_METRICS = ("cd", "mmd2")


@dataclass(frozen=True)
class Metric:
    label: str  # column header in tables and plots, e.g. "CD", "MMD²"
    compute: Callable[[np.ndarray, np.ndarray], float]  # (samples (n, d), reference (m, d)) -> value
    summary: str  # one line: what it measures and where it comes from
    digits: int = 4  # decimals shown
    brute: Callable[[np.ndarray, np.ndarray], float] | None = None  # direct float64 definition (tests)
    uses_bandwidth: bool = False  # compute(a, b, bandwidth=σ) takes the data's kernel bandwidth
    uses_labels: bool = False  # compute(a, b, labels=y) takes the classes the samples were asked for
    uses_classifier: bool = False  # compute(a, b, classifier=c) takes the data set's classifier
    higher_is_better: bool = False

    def key(self, value: float) -> float:
        """A sort key: smaller is better."""
        return -value if self.higher_is_better else value

    def format(self, value: float) -> str:
        return f"{value:.{self.digits}f}"


METRICS: Registry[Metric] = Registry("metric", package="diffcli.metrics")
