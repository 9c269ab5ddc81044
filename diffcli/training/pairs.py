"""Stored (source, data) pairs for reflow: one safetensors file in the child run.

Tensors "x_noise" and "x_data", float32 of shape (N, *shape): row i is a source draw and the
parent flow's solution from it. The metadata holds the record of how they were made (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from diffcli.errors import DiffcliError

PAIRS = "pairs.safetensors"


def pairs_bytes(x_noise: np.ndarray, x_data: np.ndarray, record: dict[str, Any]) -> bytes:
    return st_save({"x_noise": np.ascontiguousarray(x_noise, np.float32),
                    "x_data": np.ascontiguousarray(x_data, np.float32)},
                   metadata={"format": "diffcli-pairs-1", "record": json.dumps(record)})


def load_pairs(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(x_noise, x_data) from a pairs file, checked: both there, same count, the data's point
    shape, finite."""
    path = Path(path)
    try:
        t = st_load(path.read_bytes())
    except FileNotFoundError:
        raise DiffcliError(f"pairs file {str(path)!r} (train.pairs) does not exist") from None
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise DiffcliError(f"pairs file {str(path)!r} is unreadable (truncated or corrupt): {e}") from None
    if set(t) != {"x_noise", "x_data"}:
        raise DiffcliError(f"pairs file {str(path)!r} must hold tensors x_noise and x_data, has {sorted(t)}")
    xn, xd = t["x_noise"], t["x_data"]
    if xn.shape != xd.shape or xn.shape[1:] != tuple(shape) or xn.shape[0] == 0:
        raise DiffcliError(f"pairs file {str(path)!r} holds x_noise {xn.shape} and x_data {xd.shape}; both must be "
                           f"(N, {', '.join(map(str, shape))}) with N > 0, the data's point shape")
    if not (np.isfinite(xn).all() and np.isfinite(xd).all()):
        raise DiffcliError(f"pairs file {str(path)!r} holds a NaN or infinity")
    return xn.astype(np.float32), xd.astype(np.float32)


def pairs_record(path: Path) -> dict[str, Any]:
    """The record stored with the pairs (how they were made)."""
    from safetensors import safe_open

    with safe_open(str(path), "numpy") as f:
        return json.loads((f.metadata() or {}).get("record", "{}"))


def with_pairs(setup, run_dir: Path):
    """The setup with its stored pairs on the device, where its config trains on pairs (loaded and
    checked once: a missing or bad file is a one-line error before any training)."""
    if not setup.cfg.train.pairs or setup.pairs is not None:
        return setup
    from dataclasses import replace

    import jax.numpy as jnp

    pairs = load_pairs(Path(run_dir) / setup.cfg.train.pairs, setup.dataset.shape)
    return replace(setup, pairs=tuple(jnp.asarray(a) for a in pairs))
