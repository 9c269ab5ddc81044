"""CLI tests run real `python -m diffcli` subprocesses in scratch directories.

Each subprocess imports JAX (about a second of CPU) and some compile, but none depends on the
in-process tests. So as soon as collection ends, the selected CLI work starts on a small thread
pool and overlaps with the rest of the suite (which keeps about one core busy), at a lower
priority (tests/conftest.py LAST_NICE: the CLI tests run last) so that it fills the idle core
rather than slowing the in-process tests or the other background jobs; the CLI tests themselves
only wait for their results and check them.

Test modules here describe their work:
  test_cli_smoke.py   STAGES: [(stage, argv)], run in order in one directory after `train`;
  test_cli_errors.py  parametrized `case` objects (.id, .args) and make_workspace(root, run, toml):
                      each case runs in its own workspace holding a copy of the trained run, as
                      a child of forkserver.py (which has imported JAX & co. once) rather than
                      a fresh interpreter: each is still its own process with its own exit status.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TIMEOUT = 300


@dataclass
class Outcome:
    proc: subprocess.CompletedProcess
    before: dict  # snapshot of the workspace before the command
    after: dict


@dataclass
class Smoke:
    cwd: Path
    run: Path
    results: dict = field(default_factory=dict)  # stage -> CompletedProcess
    euler_first: object = None  # the first euler samples, before the repeat overwrote them


class ForkServer:
    """`python -m diffcli ARGS` as a child of forkserver.py, an interpreter that has imported
    diffcli's dependencies once, instead of a fresh interpreter that imports them again (for the
    error cases: most of a refused command's time is those imports). run() returns None where
    the server cannot fork one (the caller then starts a subprocess)."""

    def __init__(self, base: Path, env: dict, lower_priority):
        self.dir = base / "forked"
        self.dir.mkdir(parents=True)
        self.imports = self.dir / "imports.out", self.dir / "imports.err"
        r, w = os.pipe()
        with open(self.dir / "server.log", "w") as log:
            self.proc = subprocess.Popen([sys.executable, str(HERE / "forkserver.py"), str(w), *map(str, self.imports)],
                                         stdin=subprocess.PIPE, stdout=log, stderr=log, cwd=self.dir, env=env,
                                         pass_fds=(w,))
        os.close(w)
        lower_priority(self.proc.pid)  # its children inherit it
        self.replies = os.fdopen(r)
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.waiting: dict[int, dict[str, Future]] = {}
        self.live: set[int] = set()
        threading.Thread(target=self._read, name="diffcli-forkserver", daemon=True).start()

    def _read(self) -> None:
        for line in self.replies:
            msg = json.loads(line)
            futures = self.waiting[msg["id"]]
            if "code" in msg:
                futures["code"].set_result(msg["code"])
            else:
                futures["pid"].set_result(msg.get("pid"))  # None: refused
        self.replies.close()
        for futures in list(self.waiting.values()):  # the server is gone
            for f in futures.values():
                if not f.done():
                    f.set_result(None)

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
        i = next(self.ids)
        out, err = self.dir / f"{i}.out", self.dir / f"{i}.err"
        futures = self.waiting[i] = {"pid": Future(), "code": Future()}
        request = json.dumps({"id": i, "args": args, "cwd": str(cwd), "out": str(out), "err": str(err)}) + "\n"
        try:
            with self.lock:
                self.proc.stdin.write(request.encode())
                self.proc.stdin.flush()
        except (OSError, ValueError):  # the server is gone, or closed
            return None
        pid = futures["pid"].result(timeout=TIMEOUT)
        if pid is None:
            return None
        self.live.add(pid)
        try:
            code = futures["code"].result(timeout=TIMEOUT)
        except TimeoutError:
            _kill(pid)
            code = futures["code"].result(timeout=TIMEOUT)
        finally:
            self.live.discard(pid)
        if code is None:
            raise RuntimeError(f"the fork server stopped while `diffcli {' '.join(args)}` ran; see {self.dir}")
        # What the imports printed goes first, where a fresh interpreter would have printed it.
        stdout, stderr = (p.read_text() + q.read_text() if q.exists() else p.read_text()
                          for p, q in zip(self.imports, (out, err)))
        return subprocess.CompletedProcess([sys.executable, "-m", "diffcli", *args], code, stdout, stderr)

    def close(self) -> None:
        for pid in list(self.live):
            _kill(pid)
        with self.lock:
            self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait()


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


class CliJobs:
    def __init__(self, base: Path, tiny_toml: str, stages, cases, make_workspace, snapshot, lower_priority):
        self.base = base
        self.lower_priority = lower_priority  # background work: the in-process tests come first
        self.env = dict(os.environ, DIFFCLI_CACHE_DIR=str(base / "jax_cache"), PYTHONUNBUFFERED="1")
        self.env.pop("XDG_CACHE_HOME", None)
        self.tiny_toml = tiny_toml
        self.stages, self.cases, self.make_workspace, self.snapshot = stages, cases, make_workspace, snapshot
        self.forks = ForkServer(base, self.env, lower_priority) if cases else None
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diffcli-cli")
        self.live: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.closed = False
        self.smoke = Smoke(base / "smoke", base / "smoke" / "runs" / "tiny")
        self.errors: dict[str, Future] = {}
        self.smoke_done: Future = Future()
        self.train = self.pool.submit(self._train_then_fan_out)

    # -- subprocesses -----------------------------------------------------------------------
    def run_forked(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        """run(), in a child of the fork server where it can."""
        if self.closed:
            raise RuntimeError("test session is over")
        r = self.forks.run(args, cwd) if self.forks is not None else None
        return r if r is not None else self.run(args, cwd)

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "diffcli", *args]
        with self.lock:
            if self.closed:
                raise RuntimeError("test session is over")
            p = subprocess.Popen(cmd, cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.lower_priority(p.pid)
            self.live.add(p)
        try:
            out, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        finally:
            with self.lock:
                self.live.discard(p)
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)

    # -- the job graph: train once, then the error cases and the rest of the smoke pipeline ----
    def _train_then_fan_out(self) -> None:
        s = self.smoke
        s.cwd.mkdir(parents=True)
        (s.cwd / "tiny.toml").write_text(self.tiny_toml)
        r = self.run(["train", "-c", "tiny.toml", "--name", "tiny"], s.cwd)
        s.results["train"] = r
        if r.returncode != 0:
            self.smoke_done.set_result(s)
            return
        template = self.base / "template_run"
        shutil.copytree(s.run, template)  # before later stages write into the run
        self.pool.submit(self._rest_of_smoke).add_done_callback(self._smoke_finished)
        for case in self.cases:
            self.errors[case.id] = self.pool.submit(self._error_case, case, template)

    def _smoke_finished(self, f: Future) -> None:
        if f.exception() is not None:
            self.smoke_done.set_exception(f.exception())
        else:
            self.smoke_done.set_result(self.smoke)

    def _rest_of_smoke(self) -> None:
        import numpy as np

        s = self.smoke
        for stage, args in self.stages:
            if stage == "sample_euler_again":
                s.euler_first = _first_euler_samples(s.run, np)
            r = self.run(args, s.cwd)
            s.results[stage] = r
            if r.returncode != 0:
                return

    def _error_case(self, case, template: Path) -> Outcome:
        ws = self.make_workspace(self.base / "errors" / case.id, template, self.tiny_toml)
        before = self.snapshot(ws)
        proc = self.run_forked(case.args, ws)
        return Outcome(proc, before, self.snapshot(ws))

    # -- what the tests call ------------------------------------------------------------------
    def smoke_result(self) -> Smoke:
        self.train.result()
        return self.smoke_done.result()

    def error_result(self, case_id: str) -> Outcome:
        self.train.result()
        if case_id not in self.errors:
            r = self.smoke.results.get("train")
            pytest.fail(f"`diffcli train` of the tiny run failed, so no workspace exists:\n{r and r.stderr}")
        return self.errors[case_id].result()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for p in list(self.live):
                p.kill()
        if self.forks is not None:
            self.forks.close()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.base, ignore_errors=True)


def _first_euler_samples(run: Path, np):
    import json

    for j in sorted((run / "samples").glob("*.json")):
        if json.loads(j.read_text()).get("solver") == "euler":
            return np.load(j.with_suffix(".npy"))
    return None


_JOBS: dict[str, CliJobs | None] = {}


def _root_conftest(config):
    """tests/conftest.py as loaded by pytest (holds TINY_TOML and snapshot)."""
    want = HERE.parent / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        f = getattr(plugin, "__file__", None)
        if f and Path(f).resolve() == want:
            return plugin
    raise RuntimeError(f"{want} is not loaded")


def _start(session) -> CliJobs | None:
    here = [i for i in session.items if Path(str(i.path)).resolve().parent == HERE]
    if not here:
        return None
    stages = next((i.module.STAGES for i in here if hasattr(i.module, "STAGES")), [])
    cases, make_workspace = [], None
    for i in here:
        cs = getattr(i, "callspec", None)
        if cs is not None and "case" in cs.params:
            cases.append(cs.params["case"])
            make_workspace = i.module.make_workspace
    root = _root_conftest(session.config)
    base = Path(tempfile.mkdtemp(prefix="diffcli-cli-tests-"))
    return CliJobs(base, root.TINY_TOML, stages, cases, make_workspace, root.snapshot,
                   functools.partial(root.lower_priority, nice=root.LAST_NICE))


def pytest_collection_finish(session):
    """Start the selected CLI work in the background as soon as the suite is collected."""
    if "jobs" not in _JOBS and not session.config.option.collectonly:
        _JOBS["jobs"] = _start(session)


def pytest_sessionfinish(session):
    jobs = _JOBS.pop("jobs", None)
    if jobs is not None:
        jobs.close()


@pytest.fixture(scope="session")
def cli_jobs(request) -> CliJobs:
    if _JOBS.get("jobs") is None:  # e.g. no CLI item was known at collection time
        _JOBS["jobs"] = _start(request.session)
    return _JOBS["jobs"]


def pytest_collection_modifyitems(session, config, items):
    """Run the CLI tests last: their subprocesses then run while the in-process tests do."""
    mine = [i for i in items if Path(str(i.path)).resolve().parent == HERE]
    if mine:
        rest = [i for i in items if Path(str(i.path)).resolve().parent != HERE]
        items[:] = rest + mine
