"""Every device: data parallelism with JAX's own sharding, and jax.distributed for several hosts.

Training shards each batch over all devices along one mesh axis ("data") and keeps the
parameters, the optimiser state and the EMA replicated; sampling shards the sample batch the
same way. Nothing else changes: the step is the same jitted program, the batch is drawn inside
it and then constrained to the sharding (jax.lax.with_sharding_constraint), and XLA's SPMD
partitioner splits the work and inserts the gradient all-reduce. Random draws do not depend on
the sharding (jax_threefry_partitionable, JAX's default), so 1 and k devices draw the same batch
and the losses agree to float round-off (the order of the sums differs).

One device: no mesh, no constraint, the program is exactly the single-device one.

Several hosts (`--distributed`): jax.distributed.initialize() before any computation; its
auto-detection covers Slurm, Open MPI and Cloud TPU; elsewhere DIFFCLI_COORDINATOR
("host:port" of process 0), DIFFCLI_NUM_PROCESSES and DIFFCLI_PROCESS_ID name the cluster.
jax.devices() is then every host's devices, so the mesh spans the cluster; each process runs the
same program, and only process 0 writes files (runs.py atomic_path), so a run directory and its
single-file safetensors checkpoint are written once.
"""

from __future__ import annotations

import os

from diffcli.errors import DiffcliError

AXIS = "data"


def data_mesh():
    """A 1-D mesh over every device (None on one device)."""
    import jax
    import numpy as np
    from jax.sharding import Mesh

    devices = jax.devices()
    return Mesh(np.array(devices), (AXIS,)) if len(devices) > 1 else None


def device_count() -> int:
    import jax

    return jax.device_count()


def check_batch(batch: int, what: str = "train.batch") -> None:
    """A batch sharded over the devices must split evenly."""
    k = device_count()
    if k > 1 and batch % k:
        raise DiffcliError(f"{what} ({batch}) must be divisible by the {k} devices it is sharded over; "
                           f"use a multiple of {k}, e.g. {k * max(1, round(batch / k))}")


def _sharding(mesh, *spec):
    from jax.sharding import NamedSharding, PartitionSpec

    return NamedSharding(mesh, PartitionSpec(*spec))


def shard_rows(x, mesh):
    """Inside a jitted function: x (n, …) split by rows over the mesh (no-op without one, or when
    n does not split evenly)."""
    if mesh is None or x.shape[0] % mesh.size:
        return x
    import jax

    return jax.lax.with_sharding_constraint(x, _sharding(mesh, AXIS, *([None] * (x.ndim - 1))))


def gathered(x, mesh):
    """Inside a jitted function: x whole on every device of the mesh (no-op without one)."""
    if mesh is None:
        return x
    import jax

    return jax.lax.with_sharding_constraint(x, _sharding(mesh))


def replicate(tree, mesh):
    """Outside: every array of a pytree put on every device of the mesh (unchanged without one)."""
    if mesh is None:
        return tree
    import jax

    return jax.device_put(tree, _sharding(mesh))


def init_distributed() -> None:
    """jax.distributed.initialize(): auto-detected on Slurm, Open MPI and TPU; else from
    DIFFCLI_COORDINATOR, DIFFCLI_NUM_PROCESSES and DIFFCLI_PROCESS_ID. Only process 0 writes."""
    import jax

    from diffcli import runs

    kw = {}
    if os.environ.get("DIFFCLI_COORDINATOR"):
        try:
            kw = {"coordinator_address": os.environ["DIFFCLI_COORDINATOR"],
                  "num_processes": int(os.environ.get("DIFFCLI_NUM_PROCESSES", "1")),
                  "process_id": int(os.environ.get("DIFFCLI_PROCESS_ID", "0"))}
        except ValueError:
            raise DiffcliError("DIFFCLI_NUM_PROCESSES and DIFFCLI_PROCESS_ID must be integers") from None
    try:
        jax.distributed.initialize(**kw)
    except (RuntimeError, ValueError) as e:
        raise DiffcliError(f"--distributed: jax.distributed.initialize failed ({str(e).splitlines()[0]}); launch "
                           "under Slurm or Open MPI, or set DIFFCLI_COORDINATOR=host:port, DIFFCLI_NUM_PROCESSES "
                           "and DIFFCLI_PROCESS_ID") from None
    runs.WRITER["index"] = jax.process_index()
