"""Data sets by name. Each lives in its own module and registers itself in DATASETS."""

from __future__ import annotations

from diffcli.data import cat, checkerboard, file, gaussian, gaussians8, moons, rings, swissroll  # noqa: F401
from diffcli.data.base import DATASETS, Dataset
from diffcli.data.file import SUFFIXES


def get_dataset(name: str, **options) -> Dataset:
    """Build a data set by registry name, or from a path ending in .npy/.csv."""
    if name.lower().endswith(SUFFIXES):
        return DATASETS.get("file")(**{**options, "path": name})
    return DATASETS.get(name)(**options)


__all__ = ["DATASETS", "Dataset", "get_dataset"]
