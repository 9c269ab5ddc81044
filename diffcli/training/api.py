"""`diffcli train`: build everything from the config, then create the run and train it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from diffcli import config as C
from diffcli.runs import new_run_dir, run_info, write_json, write_text
from diffcli.training.loop import TrainSummary, train
from diffcli.training.setup import build


def train_run(
    cfg: C.Config,
    runs_root: Path = Path("runs"),
    name: str | None = None,
    overwrite: bool = False,
    on_chunk: Callable[[int, float, float], None] | None = None,
) -> tuple[Path, TrainSummary]:
    setup = build(cfg)  # every name and range is checked before anything is written
    data = Path(cfg.data.name).stem if cfg.data.name.lower().endswith((".npy", ".csv")) else cfg.data.name
    run_dir = new_run_dir(Path(runs_root), name, f"{cfg.model.process}-{data}", overwrite)
    if run_dir.exists() and overwrite:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)  # new_run_dir allows an existing empty directory
    write_text(run_dir / "config.toml", C.to_toml(cfg))
    write_json(run_dir / "run.json", run_info())
    _, summary = train(setup, run_dir, on_chunk=on_chunk)
    return run_dir, summary


def resume_run(
    run, steps: int | None = None, on_chunk: Callable[[int, float, float], None] | None = None
) -> tuple[Path, TrainSummary]:
    """Continue a run from its latest checkpoint (to `steps` in total if given)."""
    from dataclasses import replace

    from diffcli.errors import DiffcliError
    from diffcli.training import checkpoint
    from diffcli.training.restore import load_run

    run_dir, setup, state = load_run(run)
    cfg = setup.cfg
    if steps is not None:
        if steps <= 0:
            raise DiffcliError(f"--steps must be a positive integer, got {steps}")
        cfg = replace(cfg, train=replace(cfg.train, steps=steps))
        setup = build(cfg)
        state = checkpoint.load(run_dir, setup.init_state())
        write_text(run_dir / "config.toml", C.to_toml(cfg))
    if int(state.step) >= cfg.train.steps:
        raise DiffcliError(f"run {str(run_dir)!r} is already at step {int(state.step)} of {cfg.train.steps}; pass --steps N to train further")
    _, summary = train(setup, run_dir, state=state, on_chunk=on_chunk)
    return run_dir, summary
