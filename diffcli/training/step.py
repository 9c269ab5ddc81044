"""Pure training steps: a factory closes over the config and returns jittable functions."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from diffcli.conditioning import conditioning_of, drop_labels
from diffcli.devices import data_mesh, shard_rows
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState


def make_train_step(setup: Setup) -> Callable[[TrainState], tuple[TrainState, jax.Array]]:
    """step(state) -> (state, loss): draw a fresh batch (or a batch of the stored pairs), one
    optimiser update, EMA update."""
    cfg = setup.cfg.train
    sample, process, tx = setup.dataset.sample, setup.process, setup.tx
    mesh = data_mesh()  # several devices: each batch split over them by rows (devices.py)

    def rows(x):
        return shard_rows(x, mesh)

    def loss_fn(params, key):
        kd, kl = jax.random.split(key)
        kw = {"t": jnp.full((cfg.batch,), process.t1)} if cfg.distill else {}
        if setup.n_classes:  # labelled points, a share of the labels dropped to ∅ (conditioning.py)
            kd, ky = jax.random.split(kd)
            x, y = setup.dataset.labelled(kd, cfg.batch)
            y = drop_labels(ky, y, conditioning_of(setup.cfg.model.options).label_dropout, setup.n_classes)
            return process.loss(setup.apply(params, rows(y)), kl, rows(x), **kw)
        if setup.pairs is None:
            return process.loss(setup.apply(params), kl, rows(sample(kd, cfg.batch)), **kw)
        x_noise, x_data = setup.pairs
        i = jax.random.randint(kd, (cfg.batch,), 0, x_data.shape[0])
        return process.loss(setup.apply(params), kl, rows(x_data[i]), x_noise=rows(x_noise[i]), **kw)

    def step(state: TrainState) -> tuple[TrainState, jax.Array]:
        key, sub = jax.random.split(state.key)
        loss, grads = jax.value_and_grad(loss_fn)(state.params, sub)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ema = optax.incremental_update(params, state.ema, 1.0 - cfg.ema) if cfg.ema > 0 else params
        return TrainState(params, opt_state, ema, key, state.step + 1), loss

    return step


def make_train_chunk(setup: Setup, length: int) -> Callable[[TrainState], tuple[TrainState, jax.Array]]:
    """chunk(state) -> (state, losses of shape (length,)): `length` steps fused in one lax.scan,
    so Python is off the hot path. Compiled once per chunk length."""
    step = make_train_step(setup)

    def chunk(state: TrainState):
        return jax.lax.scan(lambda s, _: step(s), state, None, length=length)

    return jax.jit(chunk, donate_argnums=0)


def compile_train_chunk(setup: Setup, length: int, state: TrainState,
                        fused: bool | None = None) -> Callable[[TrainState], tuple[TrainState, jax.Array]]:
    """The chunk for `state`'s shapes, compiled ahead of time: fused in one lax.scan
    (make_train_chunk), except on the CPU for a network with convolutions, which XLA's CPU
    backend runs about 12 times slower inside a loop than outside one (measured: a U-Net step on
    64 images of 8×8, 470 ms in a scan against 38 ms alone); that chunk calls one compiled step
    `length` times from Python instead. `fused` forces either (None: as just said)."""
    if fused is None:
        fused = jax.default_backend() != "cpu" or not has_convolution(setup, state)
    if fused:
        return make_train_chunk(setup, length).lower(state).compile()
    one = jax.jit(make_train_step(setup), donate_argnums=0).lower(state).compile()

    def chunk(state: TrainState):
        losses = []
        for _ in range(length):
            state, loss = one(state)
            losses.append(loss)
        return state, jnp.stack(losses)

    return chunk


def has_convolution(setup: Setup, state: TrainState) -> bool:
    """Whether the network's forward pass contains a convolution (its jaxpr, sub-jaxprs included)."""
    x = jnp.zeros((1, *setup.dataset.shape), jnp.float32)
    jaxpr = jax.make_jaxpr(lambda p: setup.apply(p)(jnp.zeros(1), x))(state.params)

    def subs(params):
        for v in params.values():
            for u in v if isinstance(v, (list, tuple)) else (v,):
                u = getattr(u, "jaxpr", u)  # a closed jaxpr's own
                if hasattr(u, "eqns"):
                    yield u

    def walk(jp) -> bool:
        return any(e.primitive.name == "conv_general_dilated" or any(walk(s) for s in subs(e.params)) for e in jp.eqns)

    return walk(jaxpr.jaxpr)
