"""A fork server for the CLI error cases (run as a script by conftest.py, not collected).

A fresh `python -m diffcli …` spends most of a refused command importing JAX, Flax, diffrax and
optax (about 1.3 s of CPU). This interpreter imports them once; then, for each request, it forks
a child that runs what `python -m diffcli ARGS` runs (runpy, as -m does) in its own working
directory, with its own stdin (/dev/null), stdout and stderr files and its own exit status: a
separate process, as a subprocess is. JAX is imported here but never started (it has no backend
yet, and none is made before a fork: JAX is not fork-safe once it has one), so each child starts
its own, as a fresh process does. What the imports printed is written to the files named on the
command line; the caller adds it to every child's output, where a fresh process would print it.

    forkserver.py REPLY_FD IMPORTS_STDOUT IMPORTS_STDERR

Requests, one JSON object a line on stdin: {"id", "args", "cwd", "out", "err"}. Replies, one a
line on REPLY_FD: {"id", "pid"} once forked, then {"id", "code"} once it has exited (code as
Popen's returncode: negative for a signal), or {"id", "refused": why} when forking is not safe.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import sys
import threading

# What the commands import; diffcli (its __init__ sets EQX_ON_ERROR before equinox is imported)
# and diffcli.cli first, as `python -m diffcli` does. diffcli's own modules are left to each
# child, so that an import-order bug among them still shows.
PRELOAD = ("diffcli", "diffcli.cli", "numpy", "jax", "jax.numpy", "flax.nnx", "optax", "diffrax", "equinox",
           "safetensors.numpy")


def preload(out_path: str, err_path: str) -> None:
    saved = os.dup(1), os.dup(2)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            for name in PRELOAD:
                importlib.import_module(name)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def unsafe() -> str | None:
    """Why a fork would not give a clean process now, or None."""
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        return "JAX has started a backend"
    if threading.active_count() != 1:
        return f"{threading.active_count()} Python threads"
    return None


def serve(reply_fd: int) -> dict | None:
    """Fork a child per request; returns the request in the child, None in the server at EOF."""
    replies = os.fdopen(reply_fd, "w", buffering=1)

    def reply(**kw) -> None:
        replies.write(json.dumps(kw) + "\n")

    children: dict[int, int] = {}  # pid -> request id
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.02 if children else None)
        if ready:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                return None
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                req = json.loads(line)
                why = unsafe()
                if why:
                    reply(id=req["id"], refused=why)
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    replies.close()  # (empty: every reply is a whole line)
                    return req
                children[pid] = req["id"]
                reply(id=req["id"], pid=pid)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reply(id=children.pop(pid), code=os.waitstatus_to_exitcode(status))


def become(req: dict) -> None:
    """In the child: `python -m diffcli ARGS` in req's directory, output to req's files."""
    import runpy

    os.chdir(req["cwd"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        f = os.open(path, flags, 0o644)
        os.dup2(f, fd)
        os.close(f)
    sys.argv = ["-m", *req["args"]]  # runpy puts the module's path in argv[0], as -m does
    sys.path[0] = os.getcwd()  # -m puts the working directory first
    # Exceptions and SystemExit go up to the interpreter, which reports them and exits as it would.
    runpy.run_module("diffcli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    preload(sys.argv[2], sys.argv[3])
    request = serve(int(sys.argv[1]))
    if request is not None:
        become(request)
