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

SUFFIXES = (".npy", ".csv", ".npz")  # a data name ending in one of these is a user's file


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
    # Labelled data (digits, 8gaussians' components, a .npz with y): labels are ints in
    # [0, n_classes); labelled(key, n) -> (x, y) draws points with their labels, the same points
    # `sample` draws from the same key. 0 classes: unlabelled.
    n_classes: int = 0
    labelled: Callable[[jax.Array, int], tuple[jax.Array, jax.Array]] | None = None
    held_out_labelled: Callable[[jax.Array, int], tuple[jax.Array, jax.Array]] | None = None
    fingerprint: str = ""  # names the points exactly where draws alone might not (a file: its sha256)

    def held_out_sample(self, key: jax.Array, n: int) -> jax.Array:
        """n points the model was not trained on, shape (n, *shape)."""
        return (self.held_out or self.sample)(key, n)

    def labelled_sample(self, key: jax.Array, n: int, held_out: bool = False) -> tuple[jax.Array, jax.Array]:
        """(points (n, *shape), labels (n,) int32) drawn from the training points (held_out: from
        those kept out of training); an unlabelled data set is a one-line error."""
        if not self.n_classes:
            raise DiffcliError(f"data set {self.name!r} has no labels; labelled data: digits, 8gaussians, "
                               "or a .npz file with arrays x and y")
        return ((self.held_out_labelled or self.labelled) if held_out else self.labelled)(key, n)

    @property
    def dim(self) -> int:
        """Numbers per point (the product of shape)."""
        return math.prod(self.shape)


def resampled(points: jax.Array, labels: jax.Array | None = None):
    """A draw(key, n) of rows of `points` chosen uniformly with replacement; with `labels`, it
    returns (rows, their labels)."""
    def draw(key: jax.Array, n: int):
        i = jax.random.randint(key, (n,), 0, points.shape[0])
        return points[i] if labels is None else (points[i], labels[i])

    return draw


DATASETS: Registry[Callable[..., Dataset]] = Registry("data set", package="diffcli.data")


def entry_name(name: str) -> str:
    """The registry entry behind a data name: a path ending in .npy/.csv/.npz is the 'file' entry."""
    return "file" if name.lower().endswith(SUFFIXES) else name


def get_dataset(name: str, **options: Any) -> Dataset:
    """Build a data set by registry name with its options, or from a path ending in .npy/.csv/.npz."""
    if entry_name(name) == "file" and name != "file":
        return DATASETS.build("file", options, where="data.", path=name)
    return DATASETS.build(name, options, where="data.")


def noise_level(noise: float | None, default: float) -> float:
    """A data set's noise option: None means its own default; it must be finite and >= 0."""
    noise = default if noise is None else float(noise)
    if not (noise >= 0 and math.isfinite(noise)):
        raise DiffcliError(f"data.noise must be a finite number >= 0, got {noise}")
    return noise
