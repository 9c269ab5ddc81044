"""Open a trained run: its config, the pieces built from it, and its checkpoint."""

from __future__ import annotations

from pathlib import Path

from diffcli import config as C
from diffcli.runs import open_run
from diffcli.training import checkpoint
from diffcli.training.setup import Setup, build
from diffcli.training.state import TrainState


def load_run(path: str | Path) -> tuple[Path, Setup, TrainState]:
    run_dir = open_run(path)
    cfg = C.load(run_dir / "config.toml")
    setup = build(cfg)
    return run_dir, setup, checkpoint.load(run_dir, setup.init_state())
