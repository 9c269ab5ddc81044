"""The training driver: compiled chunks of steps, loss log, checkpoints, summary."""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffcli.devices import data_mesh, replicate
from diffcli.errors import DiffcliError, Interrupted
from diffcli.runs import is_writer, write_json, write_text
from diffcli.signals import caught_signals
from diffcli.training import checkpoint
from diffcli.training.pairs import with_pairs
from diffcli.training.setup import Setup
from diffcli.training.state import TrainState
from diffcli.training.step import compile_train_chunk


class NonFiniteLoss(DiffcliError):
    exit_code = 3


@dataclass(frozen=True)
class TrainSummary:
    steps: int
    final_loss: float  # mean loss over the last chunk
    seconds: float  # wall time of the training loop, compilation included
    steps_per_s: float  # after the first chunk (compilation excluded)
    compile_seconds: float


def train(
    setup: Setup,
    run_dir: Path,
    state: TrainState | None = None,
    on_chunk: Callable[[int, float, float], None] | None = None,
) -> tuple[TrainState, TrainSummary]:
    """Train from `state` (fresh if None) to cfg.train.steps, writing metrics and checkpoints.

    on_chunk(step, mean_loss, steps_per_s) is called after every compiled chunk.
    """
    cfg = setup.cfg.train
    state = setup.init_state() if state is None else state
    state = replicate(state, data_mesh())  # several devices: parameters and optimiser state on each
    run_dir = Path(run_dir)
    setup = with_pairs(setup, run_dir)  # reflow's stored pairs, where the config trains on them
    chunks: dict[int, Callable] = {}
    start = int(state.step)
    t_start = time.perf_counter()
    compile_s, timed_steps, timed_s, last_loss = 0.0, 0, 0.0, math.nan
    _truncate_log(run_dir / "metrics.jsonl", start)  # drop lines logged after the checkpoint we resume
    last_saved = start
    if start == 0:
        checkpoint.save(run_dir, state)  # so a failure in the first chunk still leaves a loadable run
    # (a distributed run's other processes log nowhere: process 0 writes the run)
    with open(run_dir / "metrics.jsonl" if is_writer() else os.devnull, "a") as log, caught_signals() as signals:
        while int(state.step) < cfg.steps:
            step0 = int(state.step)
            n = min(cfg.chunk, cfg.steps - step0)
            if n not in chunks:
                t = time.perf_counter()
                chunks[n] = compile_train_chunk(setup, n, state)
                compile_s += time.perf_counter() - t
            t = time.perf_counter()
            new_state, losses = chunks[n](state)
            losses = np.asarray(losses)  # blocks until the chunk is done
            dt = time.perf_counter() - t
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                raise NonFiniteLoss(
                    f"loss became {losses[bad[0]]} at step {step0 + bad[0] + 1}; the last good checkpoint "
                    f"is kept; lower train.lr (now {cfg.lr:g}) or set train.clip"
                )
            state = new_state
            timed_steps, timed_s = timed_steps + n, timed_s + dt
            last_loss = float(losses.mean())
            lr = float(setup.schedule(step0 + n - 1))
            log.write(json.dumps({"step": step0 + n, "loss": last_loss, "loss_min": float(losses.min()),
                                  "loss_max": float(losses.max()), "lr": lr}) + "\n")
            log.flush()
            if on_chunk:
                on_chunk(step0 + n, last_loss, n / dt)
            if signals:
                checkpoint.save(run_dir, state, cfg.keep)
                raise Interrupted(
                    f"{signal.Signals(signals[0]).name} at step {int(state.step)}: checkpoint saved; "
                    f"resume with 'diffcli train --resume {run_dir}'", signals[0])
            if cfg.checkpoint_every and int(state.step) - last_saved >= cfg.checkpoint_every:
                checkpoint.save(run_dir, state, cfg.keep)
                last_saved = int(state.step)
    seconds = time.perf_counter() - t_start
    checkpoint.save(run_dir, state, cfg.keep)
    summary = TrainSummary(
        steps=int(state.step) - start,
        final_loss=last_loss,
        seconds=seconds,
        steps_per_s=timed_steps / timed_s if timed_s else math.nan,
        compile_seconds=compile_s,
    )
    write_json(run_dir / "summary.json", {**summary.__dict__, "total_steps": int(state.step)})
    return state, summary


def _truncate_log(path: Path, step: int) -> None:
    """Keep only metrics lines up to `step` (a crash can log chunks the checkpoint never saw)."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    write_text(path, "".join(k + "\n" for k in keep))


def load_losses(run_dir: Path) -> np.ndarray:
    """(k, 5) array of (step, mean loss, min loss, max loss, learning rate) per chunk from
    metrics.jsonl, skipping unreadable lines (a line without min, max or lr repeats its mean / NaN)."""
    rows = []
    p = Path(run_dir) / "metrics.jsonl"
    if p.exists():
        for line in p.read_text().splitlines():
            try:
                r = json.loads(line)
                mean = float(r["loss"])
                rows.append((float(r["step"]), mean, float(r.get("loss_min", mean)), float(r.get("loss_max", mean)),
                             float(r.get("lr", math.nan))))
            except (ValueError, KeyError, TypeError, AttributeError):  # a torn or foreign line is skipped
                continue
    return np.array(rows, dtype=float).reshape(-1, 5)


__all__ = ["train", "TrainSummary", "NonFiniteLoss", "Interrupted", "load_losses"]
