"""Sample-quality metrics between point sets, by name: one file each in this folder.

`evaluate(samples, reference, names)` scores samples against reference data with the selected
metrics and returns {name: value}; `DEFAULT_METRICS` are the reference benchmark's CD and MMD².
"""

from __future__ import annotations

from collections.abc import Iterable

from diffcli.errors import DiffcliError
from diffcli.metrics.base import DEFAULT_METRICS, METRICS, Metric

__all__ = ["DEFAULT_METRICS", "METRICS", "Metric", "evaluate", "check_names", "check_fit", "default_metrics"]


def default_metrics(dataset, conditional: bool = False) -> tuple[str, ...]:
    """The metrics a command scores with when none are named: CD and MMD² (the reference
    benchmark's); for images of labelled data and for a class-conditional model, the Fréchet
    distance in the data's classifier features first, and the class accuracy where samples are
    asked for a class."""
    if not (dataset.n_classes and (conditional or len(dataset.shape) == 3)):
        return DEFAULT_METRICS
    return ("fd", "acc", *DEFAULT_METRICS) if conditional else ("fd", *DEFAULT_METRICS)


def check_names(names: Iterable[str]) -> tuple[str, ...]:
    """The names, each a registered metric (else a one-line error naming the known ones)."""
    names = tuple(names)
    for n in names:
        METRICS.get(n)
    return names


def evaluate(samples, reference, names: Iterable[str] = DEFAULT_METRICS, bandwidth: float | None = None,
             labels=None, dataset=None) -> dict[str, float]:
    """{name: value} of each selected metric between samples (n, *shape) and reference (m, *shape);
    `bandwidth`: the kernel bandwidth for the metrics that use one (None: each metric's own);
    `labels`: the class each sample was asked for; `dataset`: the labelled data set whose
    classifier the classifier metrics use."""
    out = {}
    for n in check_names(names):
        m = METRICS.get(n)
        kw = {"bandwidth": bandwidth} if m.uses_bandwidth and bandwidth is not None else {}
        if m.uses_labels:
            if labels is None:
                raise _needs_labels(n)
            kw["labels"] = labels
        if m.uses_classifier:
            kw["classifier"] = classifier_of(dataset, n)
        out[n] = float(m.compute(samples, reference, **kw))
    return out


def check_fit(names: Iterable[str], dataset, conditional: bool) -> None:
    """Before any work: each metric fits the data and the model (labels need a conditional model,
    a classifier labelled data); the classifier is trained (or read from the cache) now."""
    for n in names:
        m = METRICS.get(n)
        if m.uses_labels and not conditional:
            raise _needs_labels(n)
        if m.uses_classifier:
            classifier_of(dataset, n)


def _needs_labels(metric: str) -> DiffcliError:
    return DiffcliError(f"metric {metric!r} scores samples against the classes they were asked for: it needs a "
                        "class-conditional model (model.conditional = true)")


def classifier_of(dataset, metric: str):
    """The data set's classifier (classifier.py); an unlabelled data set is a one-line error."""
    if dataset is None or not dataset.n_classes:
        name = getattr(dataset, "name", "this data")
        raise DiffcliError(f"metric {metric!r} judges samples with a classifier of labelled data; {name!r} has no "
                           "labels (labelled: digits, 8gaussians, a .npz with x and y)")
    from diffcli.classifier import classifier_for

    return classifier_for(dataset)
