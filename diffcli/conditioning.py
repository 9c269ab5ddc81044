"""Class labels: conditional training with label dropout, and classifier-free guidance.

`[model] conditional = true` feeds each training point's label to the network (an embedding
added to its time embedding, nn/), and replaces it by the null label ∅ (index n_classes) with
probability `label_dropout`, so one network learns the conditional field v(x, t, c) and the
unconditional v(x, t, ∅) (Ho & Salimans 2022). These two options belong to every process (the
registry's `common` options): the process never sees a label, only the network does.

Sampling with guidance scale w evaluates both in one batched call of 2n rows and combines

    pred_w = (1 + w)·pred(x, t, c) − w·pred(x, t, ∅)

in the network's own output. Every process turns the network output into its prediction (and
every prediction into another) by a map that is affine in the output at fixed (t, x) — so the
combination, whose weights sum to 1, is the same in every parameterisation (eps, score, x0,
velocity) and in the process's own; tests check it for every process. A guided evaluation costs
two network evaluations (NFE counts them); w = 0 is the conditional model alone, one each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.errors import DiffcliError

MAX_GUIDANCE = 100.0


@dataclass(frozen=True)
class Conditioning:
    """The model section's options that every process takes."""

    conditional: bool = False  # feed the data's labels to the network (needs labelled data)
    label_dropout: float = 0.1  # the share of training labels replaced by the null label ∅

    def __post_init__(self):
        if not (0.0 <= self.label_dropout < 1.0):
            raise DiffcliError(f"model.label_dropout must be in [0, 1), got {self.label_dropout}")


def conditioning_of(options: dict) -> Conditioning:
    """The Conditioning in a resolved [model] section's options."""
    return Conditioning(**{k: options[k] for k in ("conditional", "label_dropout") if k in options})


def drop_labels(key: jax.Array, y: jax.Array, p: float, n_classes: int) -> jax.Array:
    """y with each label replaced by the null label (n_classes) with probability p."""
    if p <= 0:
        return y
    return jnp.where(jax.random.bernoulli(key, p, y.shape), n_classes, y)


def null_labels(n: int, n_classes: int) -> jax.Array:
    return jnp.full((n,), n_classes, jnp.int32)


def class_labels(n: int, n_classes: int, cls: int | None = None) -> np.ndarray:
    """The labels to sample n points with: all `cls`, or (None) every class in equal shares, in
    blocks of consecutive rows (n = 2000, 10 classes: 200 of each, class 0 first)."""
    if cls is None:
        return (np.arange(n) * n_classes // n).astype(np.int32)
    return np.full((n,), cls, np.int32)


@dataclass(frozen=True)
class Guide:
    """What a conditional model is sampled with: the guidance scale w and the class (None: every
    class in equal shares)."""

    scale: float = 0.0
    cls: int | None = None

    def tag(self) -> str:
        """For file names: "-w2-c3", "-w0" (equal shares)."""
        return f"-w{self.scale:g}" + ("" if self.cls is None else f"-c{self.cls}")

    def record(self, n_classes: int) -> dict:
        return {"guidance": self.scale, "class": self.cls, "n_classes": n_classes}


def check_guidance(w: float, cls: int | None, n_classes: int, where: str = "--guidance") -> None:
    """A guidance scale and class fit a run: finite, in [0, MAX_GUIDANCE], a class that exists,
    and a conditional model for either."""
    if not n_classes:
        if w or cls is not None:
            what = "--guidance" if w else "--class"
            raise DiffcliError(f"{what} needs a class-conditional model; this run was trained without labels "
                               "(train with model.conditional = true on labelled data)")
        return
    if not (math.isfinite(w) and 0.0 <= w <= MAX_GUIDANCE):
        raise DiffcliError(f"{where} must be in [0, {MAX_GUIDANCE:g}] (0: no guidance), got {w}")
    if cls is not None and not (0 <= cls < n_classes):
        raise DiffcliError(f"--class must be a class of the data, 0 … {n_classes - 1}, got {cls}")


def check_guide_trained(setup, w: float) -> None:
    """Guidance needs the unconditional field, which only label dropout trains."""
    if w and not conditioning_of(setup.cfg.model.options).label_dropout:
        raise DiffcliError("--guidance needs the unconditional field, which this run never learnt (it was trained "
                           "with model.label_dropout = 0); sample it with --guidance 0")


def guided(net: Callable, labels, w: float, n_classes: int) -> Callable:
    """net(t, x, y) as the guided field (t, x) -> (1 + w)·net(t, x, c) − w·net(t, x, ∅), the
    conditional and unconditional rows in one call; w = 0: net(t, x, c) alone."""
    labels = jnp.asarray(labels, jnp.int32)
    if w == 0:
        return lambda t, x: net(t, x, labels)
    both = jnp.concatenate([labels, null_labels(labels.shape[0], n_classes)])

    def f(t, x):
        n = x.shape[0]
        out = net(jnp.concatenate([t, t]), jnp.concatenate([x, x]), both)
        return (1.0 + w) * out[:n] - w * out[n:]

    return f


def evaluations(w: float) -> int:
    """Network evaluations per guided call: 2 (the conditional and the unconditional rows)."""
    return 2 if w else 1
