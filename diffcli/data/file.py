"""A user's own points from a .npy file of shape (n, *shape), a .csv file of shape (n, d), or a
.npz file with an array `x` of points and optionally `y` of integer labels, resampled with
replacement."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from diffcli.data.base import DATASETS, SUFFIXES, Dataset, resampled
from diffcli.errors import DiffcliError, note


def load_points(path: str | Path) -> np.ndarray:
    """Read and validate a float array of shape (n, *shape); every problem is one DiffcliError line."""
    p = Path(path)
    arr = _read(path)
    return _check_points(p, arr.get("x") if isinstance(arr, dict) else arr)


def load_labelled(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points, labels or None): a .npz's `x` and `y` (labels: integers in [0, K), one per point);
    .npy and .csv files hold no labels."""
    p = Path(path)
    arr = _read(p)
    if not isinstance(arr, dict):
        return _check_points(p, arr), None
    x = _check_points(p, arr.get("x"))
    y = arr.get("y")
    if y is None:
        return x, None
    y = np.asarray(y)
    if y.shape != (x.shape[0],):
        raise DiffcliError(f"data file {str(p)!r}: y has shape {y.shape}; expected one label per point, ({x.shape[0]},)")
    if y.size and not (np.issubdtype(y.dtype, np.integer) or (np.issubdtype(y.dtype, np.floating)
                                                              and np.all(np.isfinite(y)) and np.all(y == np.round(y)))):
        raise DiffcliError(f"data file {str(p)!r}: y must hold integer class labels 0, 1, …, got {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= MAX_CLASSES:
        raise DiffcliError(f"data file {str(p)!r}: labels must be in [0, {MAX_CLASSES}), got {y.min()} … {y.max()}")
    return x, y.astype(np.int32)


MAX_CLASSES = 10_000


def _read(p: Path):
    """The file's array (.npy, .csv) or {name: array} (.npz); every problem is one DiffcliError line."""
    p = Path(p)
    if p.suffix.lower() not in SUFFIXES:
        raise DiffcliError(f"data file {str(p)!r} must end in .npy, .csv or .npz")
    if not p.is_file():
        raise DiffcliError(f"data file {str(p)!r} does not exist")
    try:
        with warnings.catch_warnings():  # an empty file is our error line, not numpy's warning
            warnings.simplefilter("ignore")
            if p.suffix.lower() == ".npz":
                with np.load(p, allow_pickle=False) as z:
                    got = {k: z[k] for k in z.files}
                if "x" not in got:
                    raise DiffcliError(f"data file {str(p)!r} holds arrays {sorted(got) or 'none'}; a .npz needs "
                                       "the points as x (and labels as y)")
                return got
            return np.load(p, allow_pickle=False) if p.suffix.lower() == ".npy" else _read_csv(p)
    except DiffcliError:
        raise
    except Exception as e:  # numpy raises many types for malformed files
        raise DiffcliError(f"data file {str(p)!r} could not be read: {str(e).splitlines()[0]}") from None


def _check_points(p: Path, arr) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim < 2:
        raise DiffcliError(f"data file {str(p)!r} has shape {arr.shape}; expected (n, d) or (n, *shape)")
    if arr.size == 0:
        raise DiffcliError(f"data file {str(p)!r} is empty (shape {arr.shape}); expected (n, d) with n, d >= 1")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise DiffcliError(f"data file {str(p)!r} holds complex numbers ({arr.dtype}); give real coordinates, "
                           "e.g. real and imaginary parts as two columns")
    if not np.issubdtype(arr.dtype, np.number):
        raise DiffcliError(f"data file {str(p)!r} holds {arr.dtype}, not numbers")
    arr = arr.astype(np.float64)
    rows = arr.reshape(arr.shape[0], -1)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(rows)).any(axis=1).sum())
        raise DiffcliError(f"data file {str(p)!r} has {bad} rows with NaN or Inf; clean them first")
    big = float(np.abs(arr).max())
    if big > FLOAT32_MAX:
        raise DiffcliError(f"data file {str(p)!r} holds values up to {big:.3g}, beyond float32's range "
                           f"({FLOAT32_MAX:.3g}); rescale the data")
    return arr


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _read_csv(p: Path) -> np.ndarray:
    """Comma-separated numbers, one point per line; a first line that is not numbers (a header,
    as pandas writes) is skipped."""
    try:
        return np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        with open(p) as f:
            first = f.readline()
        if not _numeric_line(first):
            return np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2, skiprows=1)
        raise


def _numeric_line(line: str) -> bool:
    try:
        [float(v) for v in line.strip().split(",")]
        return True
    except ValueError:
        return False


def content_hash(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


HELD_OUT = 0.1  # the share of a file's rows kept out of training (for likelihoods), at least one row
SPLIT_SEED = 0x5917


@DATASETS.register("file")
def file(path: str, sha256: str = "", standardize: bool = False) -> Dataset:
    """A user's .npy, .csv or .npz file of points (rows), resampled with replacement.

    A fixed tenth of the rows (chosen by a seeded permutation) is held out: training and the
    scores' reference points draw from the rest, likelihoods from the held-out rows.
    `standardize` shifts and scales each coordinate to mean 0 and standard deviation 1 (over the
    training rows), for data far from unit scale; samples are then in those units. A run records
    the file's absolute path and sha256 (training/setup.py resolve), so it loads from any
    directory, and says so when the file has changed since."""
    if not path:
        raise DiffcliError("data set 'file' needs a path: --data points.npy or data.path = 'points.csv'")
    rows, labels = load_labelled(path)
    now = content_hash(path)
    if sha256 and now != sha256:
        note(f"data file {path} has changed since this run recorded it (sha256 {sha256[:12]}…); "
             "scores are against the file as it is now")
    if labels is not None and len(np.unique(labels)) <= labels.max():
        missing = sorted(set(range(int(labels.max()) + 1)) - set(np.unique(labels).tolist()))
        note(f"data file {path}: labels 0 … {labels.max()} without {', '.join(map(str, missing[:8]))}"
             f"{' …' if len(missing) > 8 else ''}; sampling in equal shares asks for those classes too")
    order = np.random.default_rng(SPLIT_SEED).permutation(rows.shape[0])
    k = max(1, int(round(HELD_OUT * rows.shape[0]))) if rows.shape[0] > 1 else 0
    train, held = rows[order[k:]], rows[order[:k]]
    if labels is not None:
        labels = jnp.asarray(labels[order[k:]]), jnp.asarray(labels[order[:k]])
    if standardize:
        mean, std = train.mean(0), train.std(0)
        std = np.where(std > 0, std, 1.0)
        train, held = (train - mean) / std, (held - mean) / std
    train, held = jnp.asarray(train, jnp.float32), jnp.asarray(held, jnp.float32)
    name, shape = Path(path).name, tuple(rows.shape[1:])
    if labels is None:
        return Dataset(name, shape, resampled(train), held_out=resampled(held) if k else None, fingerprint=now)
    return Dataset(name, shape, resampled(train), held_out=resampled(held) if k else None, fingerprint=now,
                   n_classes=int(max(labels[0].max(initial=0), labels[1].max(initial=0))) + 1,
                   labelled=resampled(train, labels[0]), held_out_labelled=resampled(held, labels[1]) if k else None)
