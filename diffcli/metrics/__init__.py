"""Sample-quality metrics between point sets, by name: one file each in this folder.

`evaluate(samples, reference, names)` scores samples against reference data with the selected
metrics and returns {name: value}; `DEFAULT_METRICS` are the reference benchmark's CD and MMD².
"""

from __future__ import annotations

from collections.abc import Iterable

from diffcli.metrics.base import DEFAULT_METRICS, METRICS, Metric

__all__ = ["DEFAULT_METRICS", "METRICS", "Metric", "evaluate", "check_names"]


def check_names(names: Iterable[str]) -> tuple[str, ...]:
    """The names, each a registered metric (else a one-line error naming the known ones)."""
    names = tuple(names)
    for n in names:
        METRICS.get(n)
    return names


def evaluate(samples, reference, names: Iterable[str] = DEFAULT_METRICS, bandwidth: float | None = None) -> dict[str, float]:
    """{name: value} of each selected metric between samples (n, *shape) and reference (m, *shape);
    `bandwidth`: the kernel bandwidth for the metrics that use one (None: each metric's own)."""
    out = {}
    for n in check_names(names):
        m = METRICS.get(n)
        kw = {"bandwidth": bandwidth} if m.uses_bandwidth and bandwidth is not None else {}
        out[n] = float(m.compute(samples, reference, **kw))
    return out
