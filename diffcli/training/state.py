"""Everything that defines a training run's progress: enough to resume bit for bit."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax


class TrainState(NamedTuple):
    params: Any  # nnx.State of the network's Params
    opt_state: Any  # optax state
    ema: Any  # EMA of params (equal to params when EMA is off)
    key: jax.Array  # typed PRNG key; split once per step
    step: jax.Array  # int32 scalar: steps done
