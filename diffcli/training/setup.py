"""Build the pieces of a run from its config: data set, process, network, optimiser.

Every name is resolved here, before any file is written, so bad input fails cleanly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from diffcli.config import Config
from diffcli.data import Dataset, get_dataset
from diffcli.errors import DiffcliError
from diffcli.nn.mlp import ResidualMLP
from diffcli.processes import Process, get_process
from diffcli.training.optim import make_optimizer
from diffcli.training.state import TrainState


@dataclass(frozen=True)
class Setup:
    cfg: Config
    dataset: Dataset
    process: Process
    graphdef: Any
    tx: optax.GradientTransformation
    schedule: optax.Schedule

    def apply(self, params):
        """The network as a function: apply(params)(x, t) with x (n, dim), t (n,)."""
        model = nnx.merge(self.graphdef, params)
        return lambda x, t: model(x, t)

    def init_state(self) -> TrainState:
        params = _init_params(self.cfg, self.dataset.dim)[1]
        key = jax.random.key(self.cfg.train.seed)
        ema = jax.tree.map(jnp.copy, params)  # its own buffers: the train chunk donates its input
        return TrainState(params, self.tx.init(params), ema, jax.random.fold_in(key, 1), jnp.int32(0))


def _init_params(cfg: Config, dim: int):
    n = cfg.network
    model = ResidualMLP(
        dim,
        width=n.width,
        depth=n.depth,
        n_freqs=n.n_freqs,
        activation=n.activation,
        residual=n.residual,
        rngs=nnx.Rngs(params=jax.random.fold_in(jax.random.key(cfg.train.seed), 0)),
    )
    return nnx.split(model, nnx.Param)


def check(cfg: Config) -> None:
    """Range checks that types alone do not catch."""
    t, n, s = cfg.train, cfg.network, cfg.sample
    positive = {
        "train.steps": t.steps, "train.batch": t.batch, "train.chunk": t.chunk,
        "network.width": n.width, "network.depth": n.depth, "network.n_freqs": n.n_freqs,
        "sample.n": s.n,
    }
    for k, v in positive.items():
        if v <= 0:
            raise DiffcliError(f"{k} must be a positive integer, got {v}")
    if not t.lr > 0:
        raise DiffcliError(f"train.lr must be > 0, got {t.lr}")
    if not 0 <= t.ema < 1:
        raise DiffcliError(f"train.ema must be in [0, 1) (0 = off), got {t.ema}")
    if t.clip < 0 or t.warmup < 0 or t.seed < 0 or t.final_lr < 0:
        raise DiffcliError("train.clip, train.warmup, train.seed and train.final_lr must be >= 0")
    if not s.grid_power > 0:
        raise DiffcliError(f"sample.grid_power must be > 0, got {s.grid_power}")
    if cfg.data.noise is not None and cfg.data.noise < 0:
        raise DiffcliError(f"data.noise must be >= 0, got {cfg.data.noise}")


def build(cfg: Config) -> Setup:
    check(cfg)
    dataset = get_dataset(cfg.data.name, noise=cfg.data.noise, path=cfg.data.path, mean=cfg.data.mean, cov=cfg.data.cov)
    opts = {k: v for k, v in dataclasses.asdict(cfg.model).items() if k != "process"}
    process = get_process(cfg.model.process, **opts)
    graphdef, _ = _init_params(cfg, dataset.dim)
    tx, schedule = make_optimizer(cfg.train)
    from diffcli.sampling.grid import GRIDS  # validate the sampling grid name early too

    GRIDS.get(cfg.sample.grid)
    return Setup(cfg, dataset, process, graphdef, tx, schedule)
