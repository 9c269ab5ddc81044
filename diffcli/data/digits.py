"""scikit-learn's handwritten digits (load_digits, shipped inside the package: no download).

1797 grey 8×8 images of the digits 0–9 (the UCI optical-recognition test set, 17 levels of
grey), scaled from [0, 16] to [−1, 1], shape (n, 8, 8, 1), labelled by digit. A fixed, stratified
fifth of the images (HELD_OUT, by a seeded split) is held out: training and the scores'
reference draws take the rest, the data floor and the classifier's accuracy the held-out ones.
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp
import numpy as np

from diffcli.data.base import DATASETS, Dataset, resampled

HELD_OUT = 0.2
SPLIT_SEED = 0x5917


@cache
def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train x, train y, held-out x, held-out y) as NumPy arrays, x in [−1, 1] of shape (n, 8, 8, 1)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = d.target.astype(np.int32)
    xa, xb, ya, yb = train_test_split(x, y, test_size=HELD_OUT, random_state=SPLIT_SEED, stratify=y)
    return xa, ya, xb, yb


@DATASETS.register("digits")
def digits() -> Dataset:
    """scikit-learn's 8×8 handwritten digits in [−1, 1], labelled 0–9, a fifth held out."""
    xa, ya, xb, yb = (jnp.asarray(a) for a in split())
    return Dataset("digits", (8, 8, 1), resampled(xa), held_out=resampled(xb), n_classes=10,
                   labelled=resampled(xa, ya), held_out_labelled=resampled(xb, yb))
