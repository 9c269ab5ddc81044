"""What the benchmark scripts share: diffcli's own commands as subprocesses, timed."""

from __future__ import annotations

import subprocess
import sys
import time


def diffcli(*args: str) -> float:
    """Run `python -m diffcli ARGS` (its table hidden; errors and progress on stderr); its wall seconds."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "diffcli", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
