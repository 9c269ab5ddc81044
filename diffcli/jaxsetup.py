"""JAX process setup shared by every command: the persistent compilation cache.

Compiled programs are stored under the user's cache directory, so a second `diffcli sample`
of the same run and solver loads its programs instead of compiling them.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("DIFFCLI_CACHE_DIR"):
        return Path(os.environ["DIFFCLI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "diffcli" / "jax"


def configure() -> None:
    import jax

    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(d))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if not _COUNTS["listening"]:
        jax.monitoring.register_event_listener(_listen)
        _COUNTS["listening"] = 1


# Persistent-cache outcomes of this process: a miss is a real XLA compilation.
_COUNTS = {"cache_hits": 0, "cache_misses": 0, "listening": 0}
_EVENTS = {"/jax/compilation_cache/cache_hits": "cache_hits", "/jax/compilation_cache/cache_misses": "cache_misses"}


def _listen(event: str, **_) -> None:
    if event in _EVENTS:
        _COUNTS[_EVENTS[event]] += 1


def compile_counts() -> dict[str, int]:
    """{'cache_hits': h, 'cache_misses': m} so far in this process (after configure())."""
    return {k: _COUNTS[k] for k in ("cache_hits", "cache_misses")}
