"""Shared fixtures: a tiny configuration, a tiny run trained once per session, CLI helpers, and
background jobs.

Everything that compiles JAX programs is session-scoped so that each program is compiled
once for the whole suite (compilation is the dominant cost on a 2-core CPU). The in-process
tests keep about one core busy; subprocess work whose outcome a test only checks runs in the
background from the start of the session on the other (Jobs, and tests/cli/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
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


# ----------------------------------------------------------------------------- background work

# Background work yields the CPU to the in-process tests, which wait for nothing; the CLI tests'
# work (tests/cli/conftest.py), checked last of all, yields it to the other background jobs too.
BACKGROUND_NICE = 10
LAST_NICE = 15


def lower_priority(pid: int, nice: int = BACKGROUND_NICE) -> None:
    """Run process pid (and the threads it starts from now on) at that niceness."""
    with contextlib.suppress(OSError):  # it has already exited
        os.setpriority(os.PRIO_PROCESS, pid, nice)


class Job:
    """What a background job function gets: its own scratch directory and ways to run
    subprocesses (at BACKGROUND_NICE, killed when the session ends)."""

    def __init__(self, jobs: Jobs, name: str):
        self.jobs, self.env, self.tiny_toml = jobs, jobs.env, TINY_TOML
        self.dir = jobs.base / name
        self.dir.mkdir(parents=True)

    def run(self, argv: list[str], cwd: Path, env: dict | None = None, timeout: float = 300):
        return self.jobs.run(argv, cwd, env, timeout)

    def cli(self, args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
        """`python -m diffcli args` in cwd, with the background jobs' compilation cache."""
        return self.run([sys.executable, "-m", "diffcli", *args], cwd, self.env, timeout)

    def start_cli(self, args: list[str], cwd: Path) -> subprocess.Popen:
        """`python -m diffcli args` in cwd, started (text pipes): for a job that signals it."""
        return self.jobs.start([sys.executable, "-m", "diffcli", *args], cwd, self.env)

    def cli_ok(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        r = self.cli(args, cwd)
        assert r.returncode == 0, f"diffcli {' '.join(args)}: exit {r.returncode}\n{r.stderr}"
        return r

    def tiny_run(self, dest: Path) -> Path:
        """dest: a copy of a run of TINY_TOML trained by `diffcli train` (once for every job)."""
        shutil.copytree(self.jobs.tiny_template(self), dest, symlinks=True)
        return dest


class Jobs:
    """Work that tests only check the outcome of (subprocesses, mostly), run on a small thread
    pool from the moment the suite is collected, so that it runs while the in-process tests do
    (which keep about one of the two cores busy), its subprocesses at a lower priority. A test
    module declares its own as BACKGROUND = {name: function(Job) -> outcome}, where name is that
    of the test or of the fixture that needs it; the test (or fixture) calls
    background(request, name), which waits for the outcome (or raises what the job raised)."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="diffcli-background-"))
        self.env = dict(os.environ, DIFFCLI_CACHE_DIR=str(self.base / "jax_cache"), PYTHONUNBUFFERED="1")
        self.env.pop("XDG_CACHE_HOME", None)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diffcli-background")
        self.futures: dict[tuple[str, str], Future] = {}
        self.live: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.closed = False
        self._template: Future | None = None

    def submit(self, module, name: str) -> Future:
        key = (module.__name__, name)
        if key not in self.futures:
            job = Job(self, f"{module.__name__}.{name}")
            self.futures[key] = self.pool.submit(module.BACKGROUND[name], job)
        return self.futures[key]

    def start(self, argv: list[str], cwd: Path, env: dict | None) -> subprocess.Popen:
        with self.lock:
            if self.closed:
                raise RuntimeError("test session is over")
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lower_priority(p.pid)
            self.live.add(p)
        return p

    def run(self, argv: list[str], cwd: Path, env: dict | None, timeout: float) -> subprocess.CompletedProcess:
        p = self.start(argv, cwd, env)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        finally:
            with self.lock:
                self.live.discard(p)
        return subprocess.CompletedProcess(argv, p.returncode, out, err)

    def tiny_template(self, job: Job) -> Path:
        with self.lock:
            first = self._template is None
            if first:
                self._template = Future()
        if first:
            try:
                d = self.base / "tiny_template"
                d.mkdir()
                (d / "tiny.toml").write_text(TINY_TOML)
                job.cli_ok(["train", "-c", "tiny.toml", "--name", "tiny"], d)
                self._template.set_result(d / "runs" / "tiny")
            except BaseException as e:
                self._template.set_exception(e)
        return self._template.result()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for p in list(self.live):
                p.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.base, ignore_errors=True)


_JOBS: list[Jobs] = []


def _jobs() -> Jobs:
    if not _JOBS:
        _JOBS.append(Jobs())
    return _JOBS[0]


def pytest_collection_finish(session):
    """Start the background work of the selected tests (and of the fixtures they use)."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        declared = getattr(getattr(item, "module", None), "BACKGROUND", {})
        for name in (getattr(item, "originalname", None), *getattr(item, "fixturenames", ())):
            if name in declared:
                _jobs().submit(item.module, name)


def pytest_sessionfinish(session):
    while _JOBS:
        _JOBS.pop().close()


@pytest.fixture(scope="session")
def background():
    """background(request, name=None, timeout=600): the outcome of the background job `name`
    (default: the requesting test's own) of request's module (see Jobs), started when the suite
    was collected, or now when it was not among those collected."""

    def outcome(request, name: str | None = None, timeout: float = 600):
        return _jobs().submit(request.module, name or request.node.originalname).result(timeout)

    return outcome


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, size and modification time."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = ("d" if p.is_dir() else "f", 0 if p.is_dir() else st.st_size, st.st_mtime_ns)
    return out

