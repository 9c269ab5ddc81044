"""Shared fixtures: a tiny configuration, a tiny run trained once per session, CLI helpers.

Everything that compiles JAX programs is session-scoped so that each program is compiled
once for the whole suite (compilation is the dominant cost on a 2-core CPU).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import diffcli  # noqa: F401 — first, as in the CLI: it sets EQX_ON_ERROR=nan before equinox is imported

REPO = Path(__file__).resolve().parents[1]

# A tiny network and a short training run: one compiled chunk (chunk divides steps).
TINY = {
    "data": {"name": "cat"},
    "model": {"process": "rf", "source": "gaussian"},
    "network": {"width": 16, "depth": 1, "n_freqs": 4, "activation": "gelu", "residual": True},
    "train": {"steps": 20, "batch": 64, "lr": 3e-3, "schedule": "constant", "warmup": 0, "chunk": 10, "ema": 0.5,
              "seed": 0},
    "sample": {"n": 128},
}

TINY_TOML = """\
[data]
name = "cat"

[model]
process = "rf"
source = "gaussian"

[network]
width = 16
depth = 1
n_freqs = 4
activation = "gelu"
residual = true

[train]
steps = 20
batch = 64
lr = 3e-3
schedule = "constant"
warmup = 0
chunk = 10
ema = 0.5
seed = 0

[sample]
n = 128
"""


@pytest.fixture(scope="session")
def tiny_toml() -> str:
    """TINY as a TOML file's text (what a user would write)."""
    return TINY_TOML


@pytest.fixture(scope="session")
def tiny_cfg():
    from diffcli import config as C

    return C.from_dict(TINY)


@dataclass
class TrainedRun:
    cfg: Any
    setup: Any
    state: Any  # the in-memory TrainState returned by training (never donated afterwards)
    run_dir: Path


@pytest.fixture(scope="session")
def tiny_run(tiny_cfg, tmp_path_factory) -> TrainedRun:
    """A real run directory (config.toml, checkpoint, metrics) trained in-process, once."""
    from diffcli import config as C
    from diffcli.runs import write_text
    from diffcli.training.loop import train
    from diffcli.training.setup import build

    setup = build(tiny_cfg)
    run_dir = tmp_path_factory.mktemp("tiny_run") / "tiny"
    run_dir.mkdir()
    write_text(run_dir / "config.toml", C.to_toml(tiny_cfg))
    state, _ = train(setup, run_dir)
    return TrainedRun(tiny_cfg, setup, state, run_dir)


# ----------------------------------------------------------------------------- CLI helpers


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """Environment for `python -m diffcli` subprocesses: a private compilation cache."""
    env = dict(os.environ)
    env["DIFFCLI_CACHE_DIR"] = str(tmp_path_factory.mktemp("jax_cache"))
    env.pop("XDG_CACHE_HOME", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diffcli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli():
    """cli(args, cwd, env) -> CompletedProcess of `python -m diffcli args` (text mode)."""
    return run_cli


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, size and modification time."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = ("d" if p.is_dir() else "f", 0 if p.is_dir() else st.st_size, st.st_mtime_ns)
    return out

