"""The data-set interface: a pure, jittable sampler of fresh points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax

from diffcli.registry import Registry


@dataclass(frozen=True)
class Dataset:
    """A distribution we can draw fresh batches from.

    sample(key, n) -> float32 array of shape (n, dim). It is pure and jittable (n static),
    so training draws a fresh batch per step inside the compiled loop.
    """

    name: str
    dim: int
    sample: Callable[[jax.Array, int], jax.Array]


DATASETS: Registry[Callable[..., Dataset]] = Registry("data set")
