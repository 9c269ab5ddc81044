"""The data-set interface: a pure, jittable sampler of fresh points, and the DATASETS registry.

A data set is one file in diffcli/data/ with a factory registered by name; the factory's keyword
parameters are its options (`[data] noise = 0.1`), checked against its signature.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

from diffcli.errors import DiffcliError
from diffcli.registry import Registry

SUFFIXES = (".npy", ".csv")  # a data name ending in one of these is a user's file


@dataclass(frozen=True, eq=False)  # identity: a data set holds functions (and arrays)
class Dataset:
    """A distribution we can draw fresh batches from.

    sample(key, n) -> float32 array of shape (n, *shape). It is pure and jittable (n static),
    so training draws a fresh batch per step inside the compiled loop. Points are vectors
    (shape (d,)) or any other array, e.g. images (H, W, C).
    """

    name: str
    shape: tuple[int, ...]
    sample: Callable[[jax.Array, int], jax.Array]
    # Points kept out of training (a user's file holds a fixed share back); None: `sample` draws
    # fresh points anyway (a distribution), so held-out points are just more draws.
    held_out: Callable[[jax.Array, int], jax.Array] | None = None
    # The MMD kernel's bandwidth where the data set defines one (the reference cat: 0.5); None:
    # the median distance between data points (scoring.py), so MMD² follows the data's scale.
    mmd_sigma: float | None = None

    def held_out_sample(self, key: jax.Array, n: int) -> jax.Array:
        """n points the model was not trained on, shape (n, *shape)."""
        return (self.held_out or self.sample)(key, n)

    @property
    def dim(self) -> int:
        """Numbers per point (the product of shape)."""
        return math.prod(self.shape)


DATASETS: Registry[Callable[..., Dataset]] = Registry("data set", package="diffcli.data")


def entry_name(name: str) -> str:
    """The registry entry behind a data name: a path ending in .npy/.csv is the 'file' entry."""
    return "file" if name.lower().endswith(SUFFIXES) else name


def get_dataset(name: str, **options: Any) -> Dataset:
    """Build a data set by registry name with its options, or from a path ending in .npy/.csv."""
    if entry_name(name) == "file" and name != "file":
        return DATASETS.build("file", options, where="data.", path=name)
    return DATASETS.build(name, options, where="data.")


def noise_level(noise: float | None, default: float) -> float:
    """A data set's noise option: None means its own default; it must be finite and >= 0."""
    noise = default if noise is None else float(noise)
    if not (noise >= 0 and math.isfinite(noise)):
        raise DiffcliError(f"data.noise must be a finite number >= 0, got {noise}")
    return noise
