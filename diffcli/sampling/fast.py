"""Fast start-up for `diffcli sample`: the compiled sampling program kept as a jax.export artefact.

A first `diffcli sample` of a run with given settings traces the sampler (diffrax, the network
through flax) and compiles it; that trace, with the imports it needs, costs about a second on
2 CPU cores before any integration starts. Here the traced program is also exported
(jax.export: StableHLO with its calling convention) and stored in the user's cache directory
with what the command needs besides (the resolved plan, its label, the NFE formula, the data
set's name and options, the checkpoint tensors the weights are, in order). A later call with the
same inputs deserialises the program and runs it on the checkpoint's tensors, read with
safetensors' NumPy loader: it imports neither diffrax nor flax and traces nothing, and XLA's
compilation comes from JAX's persistent cache as before.

The key covers every input that could change the program or the record: diffcli's own source
files (paths, sizes, modification times), the JAX version, backend and device count (the samples
are split over the devices inside the program), the run's config.toml,
its checkpoint and grids.json (their bytes' sha256) and the command's sampling arguments. The
program takes the weights, the seed's key data, the time grid and the tolerances as arguments,
as the traced one does; the seed is checked again on every call. Equinox's run-time checks are
off (EQX_ON_ERROR=nan, diffcli/__init__.py), so the program holds no host callback and is
serialisable; the solver's own result is returned and checked (checks.check_solve). Where
equinox was imported before diffcli (a library user's script importing diffrax first), its
checks are on, the export fails and `sample` runs the traced program as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

VERSION = 2  # of the cache entries' layout


def cache_root() -> Path:
    from diffcli.jaxsetup import cache_dir

    return cache_dir().parent / "programs"


def _source_fingerprint() -> str:
    import diffcli

    root = Path(diffcli.__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        st = p.stat()
        h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def program_key(run_dir: Path, request: dict[str, Any]) -> str:
    """The cache key of a sample request on a run (see the module docstring)."""
    import jax

    from diffcli.training.checkpoint import CHECKPOINT

    parts = {
        "version": VERSION, "source": _source_fingerprint(), "jax": jax.__version__, "backend": jax.default_backend(),
        "devices": jax.device_count(), "processes": jax.process_count(),  # the program's sharding depends on them
        "config": _file_sha(run_dir / "config.toml"), "checkpoint": _file_sha(run_dir / CHECKPOINT),
        "grids": _file_sha(run_dir / "grids.json"), "request": request,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:40]


def load(key: str) -> tuple[dict[str, Any], bytes] | None:
    """(meta, serialised program) of a stored entry, or None (absent or unreadable)."""
    d = cache_root()
    try:
        meta = json.loads((d / f"{key}.json").read_text())
        blob = (d / f"{key}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    return (meta, blob) if meta.get("version") == VERSION else None


def save(key: str, meta: dict[str, Any], blob: bytes) -> None:
    """Store an entry (program first, then its meta, each atomically); a cache that cannot be
    written costs time on the next call, never a result."""
    from diffcli.runs import write_json

    d = cache_root()
    try:
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{key}.bin.{os.getpid()}"
        tmp.write_bytes(blob)
        os.replace(tmp, d / f"{key}.bin")
        write_json(d / f"{key}.json", meta | {"version": VERSION})
    except OSError:
        pass


def export(sampler, params, weights_key: str) -> tuple[bytes, list[str]]:
    """The sampler's program (driver.make_sampler's `run`) exported with flat arguments: the
    weights' leaves in checkpoint order (their tensor names returned), the key's data, the grid
    and the tolerances; it returns (x, path, steps, accepted, rejected, ok, limit)."""
    import jax
    import jax.numpy as jnp

    from diffcli.training.checkpoint import tensor_names

    leaves, treedef = jax.tree.flatten(params)
    names = tensor_names({weights_key: params})

    def flat(leaves, key_data, times, rtol, atol):
        s = sampler.run(jax.tree.unflatten(treedef, leaves), jax.random.wrap_key_data(key_data), times, rtol, atol)
        path = s.path if s.path is not None else jnp.zeros(())
        return (s.x, path, *(jnp.asarray(v) for v in (s.steps, s.accepted, s.rejected, s.ok, s.limit)))

    args = (leaves, jax.random.key_data(jax.random.key(0)), sampler.times, jnp.float32(0), jnp.float32(0))
    spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), jnp.asarray(a).dtype), args)
    return bytes(jax.export.export(jax.jit(flat))(*spec).serialize()), names


def run(meta: dict[str, Any], blob: bytes, run_dir: Path, seed: int):
    """Run a stored program on the run's checkpoint for `seed`: (SampleResult, seconds to compile)."""
    import jax
    import jax.numpy as jnp
    from safetensors.numpy import load_file

    from diffcli.sampling.checks import check_solve
    from diffcli.sampling.result import SampleResult
    from diffcli.training.checkpoint import CHECKPOINT

    tensors = load_file(str(run_dir / CHECKPOINT))
    leaves = [tensors[n] for n in meta["tensors"]]
    times = np.asarray(meta["times"], np.float32)
    args = (leaves, jax.random.key_data(jax.random.key(seed)), times, jnp.float32(meta["rtol"]),
            jnp.float32(meta["atol"]))
    exp = jax.export.deserialize(bytearray(blob))
    compiled = jax.jit(exp.call).lower(*args).compile()
    t = time.perf_counter()
    x, path, steps, accepted, rejected, ok, limit = jax.block_until_ready(compiled(*args))
    seconds = time.perf_counter() - t
    check_solve(meta["label"], ok, limit, x, meta["max_steps"])
    steps = int(steps)
    a, b = meta["nfe"]
    k = meta["trajectories"]
    labels = None
    if meta.get("guide"):
        from diffcli.conditioning import class_labels

        labels = class_labels(meta["n"], meta["guide"]["n_classes"], meta["guide"]["class"])
    return SampleResult(np.asarray(x), a * steps + b, steps, int(accepted), int(rejected), seconds,
                        np.asarray(path) if k else None, times if k else None, labels)


def prepare(key: str, run_dir: Path, setup, state, plan, n: int, trajectories: int, use_ema: bool | None, guide=None):
    """Trace the request's sampler once, export it and store it with its meta: (meta, blob), or
    None when the sampler cannot be exported (a host callback in it, say) or counts NFE other
    than linearly in its steps — then the traced path runs it."""
    from diffcli.conditioning import Guide
    from diffcli.limits import check_count, check_points
    from diffcli.metrics import default_metrics
    from diffcli.sampling.api import guide_head, result_stem, sampler_for, weights, which_weights
    from diffcli.sampling.records import plan_head
    from diffcli.sampling.registry import SAMPLERS
    from diffcli.scoring import floor_cache_key

    guide = guide or Guide()
    check_points(n, setup.dataset.dim)
    check_count(trajectories, "--trajectories", 0, n)
    spec = SAMPLERS.get(plan.solver)
    b = spec.nfe(plan, 0)
    a = spec.nfe(plan, 1) - b
    if spec.nfe(plan, 7) != 7 * a + b:
        return None
    sampler = sampler_for(setup, plan, n, trajectories, guide)
    a, b = a * sampler.evals, b * sampler.evals  # a guided call is two network evaluations
    which = which_weights(setup, use_ema)
    try:
        blob, names = export(sampler, weights(setup, state, use_ema), "ema" if which == "ema" else "params")
    except Exception:  # noqa: BLE001 — whatever stops the export, the traced path still samples
        return None
    meta = {"label": plan.label(), "head": plan_head(plan) | guide_head(setup, guide), "tensors": names,
            "guide": guide_head(setup, guide), "metrics": list(default_metrics(setup.dataset, bool(setup.n_classes))),
            "stem": result_stem(setup, plan.label(), n, 0, use_ema, guide).removesuffix("-seed0"),
            "times": np.asarray(sampler.times, np.float64).tolist(), "rtol": plan.rtol or 0.0, "atol": plan.atol or 0.0,
            "max_steps": plan.max_steps if plan.adaptive else plan.steps, "nfe": [a, b], "trajectories": trajectories,
            "data": [setup.cfg.data.name, setup.cfg.data.options], "floor_cache": floor_cache_key(setup.cfg),
            "weights": which, "n": n, "version": VERSION}
    save(key, meta, blob)
    return meta, blob


def sample_cached(run_dir: Path, meta: dict[str, Any], blob: bytes, seed: int, metrics, on_start=None):
    """`diffcli sample` on a stored program: (run_dir, ScoredSample, Floor, .npy path, compile counts)."""
    from diffcli.data.base import get_dataset
    from diffcli.jaxsetup import compile_counts
    from diffcli.limits import check_seed
    from diffcli.metrics import check_fit, check_names
    from diffcli.sampling.records import finish_sample

    check_seed(seed)
    metrics = check_names(metrics)
    dataset = get_dataset(meta["data"][0], **meta["data"][1])
    check_fit(metrics, dataset, bool(meta.get("guide")))
    if on_start:
        on_start()
    before = compile_counts()
    result = run(meta, blob, run_dir, seed)
    after = compile_counts()
    compiles = {k: after[k] - before[k] for k in after}
    scored, floor, path = finish_sample(run_dir, dataset, result, seed, metrics, meta["head"], f"{meta['stem']}-seed{seed}",
                                        meta["weights"], meta["floor_cache"], compiles)
    return run_dir, scored, floor, path, compiles
