"""Run directories: runs/<name>/ holds everything a run produced.

    runs/<name>/
      config.toml          resolved configuration
      run.json             command line, versions, device, git commit, created time
      checkpoint.safetensors + checkpoint.json   params, EMA, optimiser state, step, RNG
      metrics.jsonl        training loss over steps
      summary.json         training summary
      samples/<label>.npy + samples/<label>.json   from `diffcli sample`
      bench.json, bench.csv                         from `diffcli bench`
      plots/*.png, plots/flow.gif                   from `diffcli plot`

Every file is written atomically: to a temporary file in the same directory, flushed,
fsynced, then renamed into place, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diffcli.errors import DiffcliError

CHECKPOINT = "checkpoint.safetensors"


# Under jax.distributed (devices.py) every process runs the same commands; only process 0 writes.
WRITER = {"index": 0}


def is_writer() -> bool:
    """Whether this process writes files (the only one, or process 0 of a distributed run)."""
    return WRITER["index"] == 0


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success fsync it and rename it into place. In a
    process other than the first of a distributed run, a throwaway path: nothing is written."""
    path = Path(path)
    if not is_writer():
        with tempfile.TemporaryDirectory() as d:
            yield Path(d) / path.name
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real suffix last: some writers (Pillow, matplotlib) pick the format from it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: Path, obj: Any) -> None:
    """Standard JSON: a NaN or infinity (e.g. the spread of one seed) is written as null."""
    write_text(path, json.dumps(_no_nan(obj), indent=2, default=_jsonable, allow_nan=False) + "\n")


def _no_nan(o: Any) -> Any:
    if isinstance(o, float):
        return o if o == o and abs(o) != float("inf") else None
    if isinstance(o, dict):
        return {k: _no_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_no_nan(v) for v in o]
    return o


def write_npy(path: Path, arr) -> None:
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(arr))


def _jsonable(o: Any):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise DiffcliError(f"{path} could not be read as JSON: {e}") from None


def replaced_path(run_dir: Path) -> Path:
    """Where `train --overwrite` keeps the old run while its replacement trains."""
    return run_dir.with_name(f".{run_dir.name}.replaced-{os.getpid()}")


def recover(run_dir: Path) -> None:
    """Put back an old run that a killed `train --overwrite` left aside as .NAME.replaced-PID
    (its process no longer runs): the unfinished replacement moves to NAME.replacement-PID."""
    run_dir = Path(run_dir)
    for aside in sorted(run_dir.parent.glob(f".{glob_escape(run_dir.name)}.replaced-*")):
        pid = aside.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        kept = run_dir.with_name(f"{run_dir.name}.replacement-{pid}")
        if run_dir.exists() or run_dir.is_symlink():
            run_dir.rename(kept)
        aside.rename(run_dir)
        sys.stderr.write(f"note: put back {run_dir}, which an interrupted 'train --overwrite' (pid {pid}) had "
                         f"moved aside" + (f"; its unfinished replacement is in {kept}\n" if kept.exists() else "\n"))


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_run(path: str | Path) -> Path:
    """An existing run directory (a name under runs/ or a path) that has a checkpoint."""
    p = Path(path)
    if not p.exists() and not p.is_absolute():
        recover(Path("runs") / p)
        if (Path("runs") / p).exists():
            p = Path("runs") / p
    recover(p)
    if not p.is_dir():
        raise DiffcliError(f"run directory {str(path)!r} does not exist; train one with 'diffcli train'")
    if not (p / "config.toml").is_file():
        raise DiffcliError(f"{str(p)!r} has no config.toml, so it is not a diffcli run directory")
    if not (p / CHECKPOINT).is_file():
        raise DiffcliError(f"run {str(p)!r} has no checkpoint ({CHECKPOINT}); train it first with 'diffcli train'")
    return p


def new_run_dir(root: Path, name: str | None, default_stem: str, overwrite: bool) -> Path:
    """Choose runs/<name>; an existing one is an error unless overwrite. A default name never collides."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DiffcliError(f"runs directory {str(root)!r} is a file, not a directory; pass another --runs-dir")
    if name is not None:
        check_name(name)
        p = root / name
        if not is_writer():  # process 0 of a distributed run checks and makes it; the others write nothing
            return p
        recover(p)
        if p.exists() and not p.is_dir():
            raise DiffcliError(f"{str(p)!r} exists and is not a directory; pick another --name")
        if p.exists() and any(p.iterdir()) and not overwrite:
            raise DiffcliError(f"run {str(p)!r} already exists; pick another --name or pass --overwrite")
        return p
    i = 1
    while (root / f"{default_stem}-{i}").exists():
        i += 1
    return root / f"{default_stem}-{i}"


def check_name(name: str) -> None:
    """A run name is a plain, printable file name of at most NAME_MAX characters."""
    from diffcli.limits import NAME_MAX

    if not name or not name.strip():
        raise DiffcliError("--name must not be empty; leave it out for a fresh <model>-<data>-<i> name")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise DiffcliError(f"run name {name!r} must be a plain name, not a path or a hidden name")
    if any(not c.isprintable() for c in name):
        raise DiffcliError(f"run name {name!r} holds a control character; use letters, digits, '-', '_' or '.'")
    if len(name) > NAME_MAX or len(name.encode()) > 255:
        raise DiffcliError(f"run name is {len(name)} characters long; use at most {NAME_MAX}")


def run_info() -> dict[str, Any]:
    """Provenance for run.json: command line, versions, device, git commit (when there is one)."""
    import platform
    import subprocess
    import sys
    import time

    import jax

    import diffcli

    commit = None
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            commit = out.stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True, timeout=5)
            if dirty.stdout.strip():
                commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "argv": sys.argv,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "diffcli": diffcli.__version__,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "device": str(jax.devices()[0]),
        "devices": jax.device_count(),  # the batch is split over all of them (devices.py)
        "processes": jax.process_count(),
        "platform": jax.default_backend(),
        "git_commit": commit,
    }
