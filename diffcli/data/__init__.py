"""Data sets by name: one file each in this folder, registered in DATASETS (data/base.py)."""

from diffcli.data.base import DATASETS, SUFFIXES, Dataset, get_dataset

__all__ = ["DATASETS", "SUFFIXES", "Dataset", "get_dataset"]
