"""SIGINT/SIGTERM recorded instead of raised, so a long command stops at a safe point.

A KeyboardInterrupt raised inside JAX (in a host callback or XLA's garbage-collection hook) can
be swallowed ("Exception ignored in: _xla_gc_callback") and the command goes on; recording the
signal and checking it between compiled calls is what makes Ctrl-C reliable.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from diffcli.errors import Interrupted


@contextlib.contextmanager
def caught_signals() -> Iterator[list[int]]:
    """Yields the list of signals received so far (SIGINT, SIGTERM); handlers restored on exit."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    old = {s: signal.signal(s, lambda signum, _frame: got.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def stop_if_signalled(got: list[int], what: str) -> None:
    """Interrupted (exit 128 + signal) naming the signal and `what` was kept, if one arrived."""
    if got:
        raise Interrupted(f"{signal.Signals(got[0]).name}: {what}", got[0])
