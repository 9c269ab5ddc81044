"""Pure training steps: a factory closes over the config and returns jittable functions."""

from __future__ import annotations

from collections.abc import Callable

import jax
import optax

from diffcli.training.setup import Setup
from diffcli.training.state import TrainState


def make_train_step(setup: Setup) -> Callable[[TrainState], tuple[TrainState, jax.Array]]:
    """step(state) -> (state, loss): draw a fresh batch, one optimiser update, EMA update."""
    cfg = setup.cfg.train
    sample, process, tx = setup.dataset.sample, setup.process, setup.tx

    def loss_fn(params, key):
        kd, kl = jax.random.split(key)
        return process.loss(setup.apply(params), kl, sample(kd, cfg.batch))

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
