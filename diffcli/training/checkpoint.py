"""Checkpoints in safetensors: params, EMA params, optimiser state, step and RNG key.

Tensors are named by their pytree path ("params/hidden/0/kernel", "opt/0/mu/..."), so a
checkpoint is readable by any safetensors tool. Loading fills a template TrainState built
from the run's config; a missing tensor or a shape mismatch is a one-line DiffcliError.
A small JSON beside it records the step and the tensor count.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from diffcli.errors import DiffcliError
from diffcli.runs import CHECKPOINT, is_writer, write_bytes, write_json
from diffcli.training.state import TrainState


def tensor_names(tree) -> list[str]:
    """The checkpoint's tensor names of a tree's leaves, in jax.tree.flatten order."""
    return [_key_name(p) for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _key_name(path) -> str:
    parts = []
    for k in path:
        for attr in ("key", "name", "idx"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return "/".join(parts)


def _flatten(state: TrainState) -> dict[str, np.ndarray]:
    tree = {
        "params": state.params,
        "ema": state.ema,
        "opt": state.opt_state,
        "key": jax.random.key_data(state.key),
        "step": state.step,
    }
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {_key_name(p): np.asarray(v) for p, v in leaves}


def save(run_dir: Path, state: TrainState, keep: int = 0) -> None:
    """Write the latest checkpoint (atomically) and, if keep > 0, a copy in checkpoints/
    named by step, deleting all but the newest `keep` copies."""
    run_dir = Path(run_dir)
    tensors = _flatten(jax.device_get(state))
    blob = st_save(tensors, metadata={"format": "diffcli-1"})
    step = int(state.step)
    if keep > 0:
        hist = run_dir / "checkpoints"
        write_bytes(hist / f"step-{step:08d}.safetensors", blob)
        for old in sorted(hist.glob("step-*.safetensors"))[:-keep] if is_writer() else []:
            old.unlink()
    write_bytes(run_dir / CHECKPOINT, blob)
    write_json(run_dir / "checkpoint.json", {"step": step, "tensors": len(tensors), "file": CHECKPOINT})


def load(run_dir: Path, template: TrainState) -> TrainState:
    """Restore into the structure of `template` (built from the run's config; its leaves may be
    arrays or jax.ShapeDtypeStruct, e.g. jax.eval_shape(setup.init_state): nothing is computed)."""
    path = Path(run_dir) / CHECKPOINT
    try:
        tensors = st_load(path.read_bytes())
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise DiffcliError(f"checkpoint {str(path)!r} is unreadable (truncated or corrupt): {e}") from None
    tree = {
        "params": template.params,
        "ema": template.ema,
        "opt": template.opt_state,
        "key": jax.eval_shape(jax.random.key_data, template.key),
        "step": template.step,
    }
    paths, treedef = jax.tree_util.tree_flatten_with_path(tree)
    leaves = []
    for p, want in paths:
        name = _key_name(p)
        if name not in tensors:
            raise DiffcliError(f"checkpoint {str(path)!r} lacks tensor {name!r}: it was made with another config")
        got = tensors[name]
        want_shape, want_dtype = tuple(np.shape(want)), np.dtype(want.dtype)
        if got.shape != want_shape or got.dtype != want_dtype:
            raise DiffcliError(
                f"checkpoint tensor {name!r} has shape {got.shape} {got.dtype}, but the config needs "
                f"{want_shape} {want_dtype}"
            )
        leaves.append(jnp.asarray(got))
    extra = set(tensors) - {_key_name(p) for p, _ in paths}
    if extra:
        raise DiffcliError(f"checkpoint {str(path)!r} has tensors the config does not: {sorted(extra)[:3]}")
    t = jax.tree_util.tree_unflatten(treedef, leaves)
    return TrainState(t["params"], t["opt"], t["ema"], jax.random.wrap_key_data(t["key"]), t["step"])
