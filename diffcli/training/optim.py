"""The optimiser: an optax chain (optional clipping, then Adam with a schedule)."""

from __future__ import annotations

import optax

from diffcli.config import TrainConfig, warmup_steps
from diffcli.errors import choice_error

SCHEDULES = ("constant", "cosine")


def make_schedule(cfg: TrainConfig) -> optax.Schedule:
    warmup = warmup_steps(cfg)
    if cfg.schedule == "constant":
        if warmup > 0:
            return optax.linear_schedule(0.0, cfg.lr, warmup)
        return optax.constant_schedule(cfg.lr)
    if cfg.schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(
            init_value=0.0,
            peak_value=cfg.lr,
            warmup_steps=warmup,
            decay_steps=max(cfg.steps, warmup + 1),
            end_value=cfg.final_lr,
        )
    raise choice_error("learning-rate schedule", cfg.schedule, SCHEDULES)


def make_optimizer(cfg: TrainConfig) -> tuple[optax.GradientTransformation, optax.Schedule]:
    schedule = make_schedule(cfg)
    parts = [optax.clip_by_global_norm(cfg.clip)] if cfg.clip > 0 else []
    parts.append(optax.adam(schedule))
    return optax.chain(*parts), schedule
