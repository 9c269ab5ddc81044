"""Build the pieces of a run from its config: data set, process, network, optimiser.

Every name and option is resolved here, before any file is written, so bad input fails
cleanly. The returned Setup holds the resolved config: every option of the chosen data set,
process and network spelt out (what config.toml records).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from diffcli.conditioning import conditioning_of
from diffcli.config import Config, warmup_steps
from diffcli.data import DATASETS, Dataset, get_dataset
from diffcli.data.base import entry_name
from diffcli.errors import DiffcliError
from diffcli.limits import GRID_POWER, GRID_RHO, MAX_LR, MAX_POINTS, check_count, check_range, check_seed
from diffcli.nn.base import NETWORKS, build_network
from diffcli.processes import PROCESSES, Process
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
    pairs: Any = None  # (x_noise, x_data) arrays when training on stored pairs (training/pairs.py)
    n_classes: int = 0  # a class-conditional model's number of classes (0: unconditional)

    def apply(self, params, labels: jax.Array | None = None):
        """The network as a function: apply(params)(t, x) with t (n,), x (n, *shape); a
        conditional model's at the given labels (n,), or unconditional (the null label) without."""
        model = nnx.merge(self.graphdef, params)
        if not self.n_classes:
            return lambda t, x: model(t, x)
        return lambda t, x: model(t, x, labels)

    def labelled_net(self, params):
        """A conditional model's network with its labels as an argument: net(t, x, y)."""
        model = nnx.merge(self.graphdef, params)
        return lambda t, x, y: model(t, x, y)

    def state_shapes(self) -> TrainState:
        """init_state's shapes and dtypes, nothing initialised (what a checkpoint is loaded into);
        a network whose __init__ computes on concrete values is initialised for real instead."""
        try:
            return jax.eval_shape(self.init_state)
        except jax.errors.ConcretizationTypeError:
            return self.init_state()

    def init_state(self) -> TrainState:
        params = _init_params(self.cfg, self.dataset.shape, n_classes=self.n_classes)[1]
        key = jax.random.key(self.cfg.train.seed)
        ema = jax.tree.map(jnp.copy, params)  # its own buffers: the train chunk donates its input
        return TrainState(params, self.tx.init(params), ema, jax.random.fold_in(key, 1), jnp.int32(0))


def _init_params(cfg: Config, shape: tuple[int, ...], abstract: bool = False, n_classes: int = 0):
    """(graphdef, params) of the run's network; `abstract`: shapes and dtypes only (nnx.eval_shape),
    nothing initialised — all a run being loaded needs before its checkpoint fills them in."""
    def make():
        rngs = nnx.Rngs(params=jax.random.fold_in(jax.random.key(cfg.train.seed), 0))
        return build_network(cfg.network.name, cfg.network.options, shape, rngs, n_classes)

    if abstract:
        try:
            return nnx.split(nnx.eval_shape(make), nnx.Param)
        except jax.errors.ConcretizationTypeError:  # a network whose __init__ computes on concrete values
            pass
    return nnx.split(make(), nnx.Param)


def check(cfg: Config) -> None:
    """Range checks of [train] and [sample] that types alone do not catch (the data set, process
    and network check their own options)."""
    t, s = cfg.train, cfg.sample
    positive = {"train.steps": t.steps, "train.batch": t.batch, "train.chunk": t.chunk, "sample.n": s.n}
    for k, v in positive.items():
        if v <= 0:
            raise DiffcliError(f"{k} must be a positive integer, got {v}")
    check_count(s.n, "sample.n", 1, MAX_POINTS)
    check_seed(t.seed, "train.seed")
    if not (0 < t.lr <= MAX_LR):
        raise DiffcliError(f"train.lr must be in (0, {MAX_LR:g}], got {t.lr:g}")
    if t.warmup is not None and t.warmup > t.steps:
        raise DiffcliError(f"train.warmup ({t.warmup}) must not exceed train.steps ({t.steps})")
    if not 0 <= t.ema < 1:
        raise DiffcliError(f"train.ema must be in [0, 1) (0 = off), got {t.ema}")
    for k in ("clip", "warmup", "seed", "final_lr", "keep", "checkpoint_every"):
        if (getattr(t, k) or 0) < 0:
            raise DiffcliError(f"train.{k} must be >= 0, got {getattr(t, k)}")
    check_range(s.grid_power, "sample.grid_power", *GRID_POWER)
    check_range(s.grid_rho, "sample.grid_rho", *GRID_RHO)


def resolve(cfg: Config) -> Config:
    """cfg with every option of its data set, process and network checked and spelt out; a user's
    data file by its absolute path and its sha256, so the run loads from any directory."""
    path_name = entry_name(cfg.data.name) == "file" and cfg.data.name != "file"
    data = DATASETS.resolve(entry_name(cfg.data.name), cfg.data.options, "data.", skip=("path",) if path_name else ())
    data_cfg = replace(cfg.data, options=data)
    if entry_name(cfg.data.name) == "file":
        data_cfg = _pin_file(data_cfg, path_name)
    model = PROCESSES.resolve(cfg.model.process, cfg.model.options, "model.")
    network = NETWORKS.resolve(cfg.network.name, cfg.network.options, "network.")
    return replace(cfg, data=data_cfg, model=replace(cfg.model, options=model),
                   network=replace(cfg.network, options=network), train=replace(cfg.train, warmup=warmup_steps(cfg.train)))


def _pin_file(data, path_name: bool):
    """The file's absolute path (in `name` when the name is the path, else in `path`) and, when
    not recorded yet, its sha256; a missing file is left for the data set's own error."""
    from pathlib import Path

    from diffcli.data.file import content_hash

    path = Path(data.name if path_name else data.options.get("path", ""))
    if not path.is_file():
        return data
    options = {**data.options, "sha256": data.options.get("sha256") or content_hash(path)}
    if path_name:
        return replace(data, name=str(path.resolve()), options=options)
    return replace(data, options={**options, "path": str(path.resolve())})


def check_pairing(process: Process, dataset: Dataset, cfg: Config) -> None:
    """A source that is a data set draws the data's point shape; an OT coupling's block divides
    the batch."""
    src = getattr(process, "src", None)
    if src is not None and src.shape is not None and src.shape != dataset.shape:
        raise DiffcliError(f"model.source {src.name!r} draws points of shape {src.shape}, the data "
                           f"{cfg.data.name!r} has points of shape {dataset.shape}; pick a source of the same shape")
    coupling = getattr(process, "coupling", None)
    if coupling not in (None, "independent", "pairs"):
        from diffcli.couplings.base import block_size

        block_size(cfg.train.batch, process.coupling_block)
    if cfg.train.pairs:
        from pathlib import PurePath

        if coupling is None:
            raise DiffcliError(f"train.pairs: model {process.name!r} does not train on (source, data) pairs; "
                               "rf and bridge do")
        if coupling != "pairs":
            raise DiffcliError(f"train.pairs are the coupling; set model.coupling = \"pairs\" (got {coupling!r})")
        if PurePath(cfg.train.pairs).name != cfg.train.pairs or cfg.train.pairs.startswith("."):
            raise DiffcliError(f"train.pairs must name a file in the run directory, got {cfg.train.pairs!r}")
    elif coupling == "pairs":
        raise DiffcliError("model.coupling = \"pairs\" trains on stored pairs: it needs train.pairs, which "
                           "diffcli reflow writes; pick independent, ot or sinkhorn")
    if cfg.train.distill and not (cfg.train.pairs and process.prediction == "velocity"):
        raise DiffcliError("train.distill trains a velocity model's one-step map on stored pairs: it needs "
                           "train.pairs and a velocity model (rf); see diffcli reflow --distill")


def n_classes_for(cfg: Config, dataset: Dataset) -> int:
    """The classes a conditional model learns (0: unconditional); it needs labelled data and
    samples drawn fresh (reflow's stored pairs carry no labels)."""
    cond = conditioning_of(cfg.model.options)
    if not cond.conditional:
        return 0
    if not dataset.n_classes:
        raise DiffcliError(f"model.conditional needs labelled data; data {cfg.data.name!r} has no labels: use digits, "
                           "8gaussians or a .npz file with arrays x and y")
    if cfg.train.pairs:
        raise DiffcliError("a conditional model cannot train on stored pairs (train.pairs): reflow's pairs carry no labels")
    return dataset.n_classes


def build(cfg: Config) -> Setup:
    check(cfg)
    cfg = resolve(cfg)
    dataset = get_dataset(cfg.data.name, **cfg.data.options)
    process = PROCESSES.build(cfg.model.process, cfg.model.options, where="model.")
    check_pairing(process, dataset, cfg)
    n_classes = n_classes_for(cfg, dataset)
    graphdef, _ = _init_params(cfg, dataset.shape, abstract=True, n_classes=n_classes)
    tx, schedule = make_optimizer(cfg.train)
    from diffcli.sampling.grids import GRIDS  # validate the sampling grid name early too

    GRIDS.get(cfg.sample.grid)
    return Setup(cfg, dataset, process, graphdef, tx, schedule, n_classes=n_classes)
