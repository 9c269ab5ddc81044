"""Peak-memory benchmark for diffcli.metrics: CD and MMD^2 between two large 2-D point sets.

Usage: .venv/bin/python benchmarks/metrics_memory.py [--n 100000] [--block ROWS]

A full 100k x 100k float32 distance matrix would be 40 GB; the blocked kernels must keep the
whole process under 2 GB peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from diffcli.metrics.chamfer import chamfer_distance
from diffcli.metrics.mmd import mmd2

LIMIT_MB = 2048


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="points per set")
    parser.add_argument("--block", type=int, default=None, help="rows per block (default: auto)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    a = rng.normal(size=(args.n, 2)).astype(np.float32)
    b = (rng.normal(size=(args.n, 2)) + 0.05).astype(np.float32)
    print(f"n = m = {args.n}, d = 2; baseline peak RSS {peak_rss_mb():.0f} MB")

    for name, fn in [("cd", chamfer_distance), ("mmd2", mmd2)]:
        start = time.perf_counter()
        value = fn(a, b, block=args.block)
        print(f"{name:5s} = {value:.6g}  wall {time.perf_counter() - start:.1f} s  peak RSS {peak_rss_mb():.0f} MB")

    peak = peak_rss_mb()
    print(f"peak RSS {peak:.0f} MB ({'under' if peak < LIMIT_MB else 'OVER'} the {LIMIT_MB} MB limit)")
    sys.exit(0 if peak < LIMIT_MB else 1)


if __name__ == "__main__":
    main()
