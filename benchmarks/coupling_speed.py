"""What a coupling costs in training steps/s, every setting side by side in one process.

    .venv/bin/python benchmarks/coupling_speed.py [--rounds 5] [--chunk 100] [--batch 2048]

The default recipe (configs/rf_cat.toml: batch 2048, the 256 × 3 MLP) with each coupling and
block size below; each setting's scan-fused chunk is compiled first, then the rounds alternate
between the settings (so a slower moment of a shared machine hits every setting alike). Prints
the median steps/s of each and its ratio to independent coupling.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax

from diffcli import config as C
from diffcli.training.setup import build
from diffcli.training.step import compile_train_chunk

SETTINGS = [("independent", 32, 0.01), ("ot", 16, 0.01), ("ot", 32, 0.01), ("ot", 64, 0.01), ("ot", 128, 0.01),
            ("sinkhorn", 32, 0.01), ("sinkhorn", 256, 0.05)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--batch", type=int, default=2048)
    a = ap.parse_args()
    base = C.load("configs/rf_cat.toml")
    runs = {}
    for coupling, block, eps in SETTINGS:
        cfg = C.from_dict({"model": {"coupling": coupling, "coupling_block": block, "coupling_epsilon": eps},
                           "train": {"batch": a.batch, "chunk": a.chunk}}, base)
        setup = build(cfg)
        state = setup.init_state()
        chunk = compile_train_chunk(setup, a.chunk, state)
        state, _ = chunk(state)
        jax.block_until_ready(state)
        runs[(coupling, block, eps)] = [chunk, state, []]
    for _ in range(a.rounds):
        for r in runs.values():
            t = time.perf_counter()
            r[1], losses = r[0](r[1])
            jax.block_until_ready(losses)
            r[2].append(a.chunk / (time.perf_counter() - t))
    ref = statistics.median(runs[SETTINGS[0]][2])
    print(f"batch {a.batch}, chunks of {a.chunk} steps, {a.rounds} rounds; median steps/s")
    for (coupling, block, eps), r in runs.items():
        m = statistics.median(r[2])
        what = coupling if coupling == "independent" else f"{coupling}, blocks of {block}" + (
            f", ε {eps:g}" if coupling == "sinkhorn" else "")
        print(f"  {what:<32} {m:8.1f} steps/s   {m / ref:6.3f} × independent")


if __name__ == "__main__":
    main()
