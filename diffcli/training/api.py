"""`diffcli train`: build everything from the config, then create the run and train it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from diffcli import config as C
from diffcli.data import SUFFIXES
from diffcli.devices import check_batch
from diffcli.errors import DiffcliError, Interrupted
from diffcli.runs import new_run_dir, replaced_path, run_info, write_bytes, write_json, write_text
from diffcli.training.loop import TrainSummary, train
from diffcli.training.pairs import with_pairs
from diffcli.training.setup import Setup, build


def train_run(
    cfg: C.Config,
    runs_root: Path = Path("runs"),
    name: str | None = None,
    overwrite: bool = False,
    on_chunk: Callable[[int, float, float], None] | None = None,
    setup: Setup | None = None,
    state=None,
    files: dict[str, bytes] | None = None,
    info: dict | None = None,
) -> tuple[Path, TrainSummary]:
    """Train cfg into a new run directory (`setup`: cfg already built, e.g. to check it first),
    from `state` (default: a fresh init), with `files` {name: bytes} written into the run first
    and `info` added to its run.json (diffcli reflow: the pairs, the parent's weights, the lineage)."""
    setup = setup or build(cfg)  # every name, option and range is checked before anything is written
    cfg = setup.cfg  # resolved: every option spelt out
    check_batch(cfg.train.batch)  # it splits over the devices
    if cfg.train.pairs and cfg.train.pairs not in (files or {}):
        raise DiffcliError(f"train.pairs ({cfg.train.pairs!r}) names pairs stored in a run by diffcli reflow; a new run "
                           "has none: make a reflowed run with 'diffcli reflow PARENT', or resume one with --resume")
    data = Path(cfg.data.name).stem if cfg.data.name.lower().endswith(SUFFIXES) else cfg.data.name
    run_dir = new_run_dir(Path(runs_root), name, f"{cfg.model.process}-{data}", overwrite)
    # --overwrite: the old run is moved aside (runs/.NAME.replaced-PID) and deleted only once the
    # new one has finished. Ctrl-C or SIGTERM puts the old run back and keeps the interrupted
    # replacement, resumable, as runs/NAME.replacement-PID; any other failure puts the old run
    # back and discards the replacement. After a SIGKILL the next command that opens NAME puts
    # the old run back (runs.py recover).
    aside = replaced_path(run_dir) if overwrite and run_dir.exists() else None
    if aside is not None:
        if run_dir.is_symlink():
            raise DiffcliError(f"run {str(run_dir)!r} is a symbolic link; --overwrite replaces run directories, "
                               "not links: remove the link or pick another --name")
        run_dir.rename(aside)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)  # new_run_dir allows an existing empty directory
        for fname, blob in (files or {}).items():
            write_bytes(run_dir / fname, blob)
        write_text(run_dir / "config.toml", C.to_toml(cfg))
        write_json(run_dir / "run.json", run_info() | (info or {}))
        _, summary = train(setup, run_dir, state=state, on_chunk=on_chunk)
    except Interrupted as e:
        if aside is not None:
            kept = run_dir.with_name(f"{run_dir.name}.replacement-{os.getpid()}")
            run_dir.rename(kept)
            aside.rename(run_dir)
            e.args = (f"{e.args[0].split(';')[0]}; the previous run is back in {run_dir}, and this replacement is "
                      f"kept in {kept}: resume it with 'diffcli train --resume {kept}'",)
        raise
    except BaseException:
        if aside is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
            aside.rename(run_dir)
        raise
    if aside is not None:
        shutil.rmtree(aside)
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
    check_batch(cfg.train.batch)
    total = cfg.train.steps if steps is None else steps
    if steps is not None and steps <= 0:
        raise DiffcliError(f"--steps must be a positive integer, got {steps}")
    if int(state.step) >= total:  # refused before anything is written
        raise DiffcliError(f"run {str(run_dir)!r} is already at step {int(state.step)} of {total}; "
                           "pass --steps N with N above that to train further")
    more = steps is not None and steps != cfg.train.steps
    if more:
        cfg = replace(cfg, train=replace(cfg.train, steps=steps))
        setup = build(cfg)
        state = checkpoint.load(run_dir, setup.state_shapes())
    setup = with_pairs(setup, run_dir)  # reflow's pairs, checked before anything is written
    if more:
        write_text(run_dir / "config.toml", C.to_toml(setup.cfg))
    _, summary = train(setup, run_dir, state=state, on_chunk=on_chunk)
    return run_dir, summary
