"""Speed of diffcli against bare jitted loops, measured side by side in one process.

    .venv/bin/python benchmarks/speed.py [--rounds 5] [--chunk 250] [--n 2000] [--steps 100]

1. Training steps/s: diffcli's scan-fused train chunk vs a bare jitted step (same network, same
   optimiser, same fresh cat batch per step) called in a Python loop.
2. Sampling ms per NFE: diffcli's diffrax Euler sampler vs a bare jitted Euler fori_loop over
   the same network and parameters.
3. `diffcli --help` wall time (subprocess).
Rounds alternate between the two sides; medians and the ratio of medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import optax

from diffcli import config as C
from diffcli.sampling.api import sampler_for
from diffcli.sampling.plan import make_plan
from diffcli.training.setup import build
from diffcli.training.step import make_train_chunk


def bare_train(setup, cfg):
    """The textbook loop: one jitted update, called once per step from Python."""
    model_apply, sample, tx = setup.apply, setup.dataset.sample, setup.tx

    @jax.jit
    def step(params, opt_state, key):
        key, kd, kt, kn = jax.random.split(key, 4)
        x0 = sample(kd, cfg.train.batch)

        def loss(p):
            t = jax.random.uniform(kt, (x0.shape[0],))
            x1 = jax.random.normal(kn, x0.shape)
            xt = t[:, None] * x1 + (1 - t[:, None]) * x0
            return jnp.mean((model_apply(p)(t, xt) - (x1 - x0)) ** 2)

        loss_, g = jax.value_and_grad(loss)(params)
        u, opt_state = tx.update(g, opt_state, params)
        return optax.apply_updates(params, u), opt_state, key, loss_

    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=100)
    a = ap.parse_args()

    cfg = C.from_dict({"train": {"chunk": a.chunk, "ema": 0.0, "schedule": "constant"}})
    setup = build(cfg)
    state = setup.init_state()
    chunk = make_train_chunk(setup, a.chunk)
    step = bare_train(setup, cfg)
    # Own copies: the diffcli chunk donates (reuses) the buffers of the state it is given.
    params, opt_state, key = jax.tree.map(jnp.copy, (state.params, state.opt_state)) + (jax.random.key(1),)

    state, loss_ = chunk(state)
    jax.block_until_ready(loss_)
    params, opt_state, key, loss_ = step(params, opt_state, key)
    jax.block_until_ready(loss_)
    ours, bare = [], []
    for _ in range(a.rounds):
        t = time.perf_counter()
        state, loss_ = chunk(state)
        jax.block_until_ready(loss_)
        ours.append(a.chunk / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(a.chunk):
            params, opt_state, key, loss_ = step(params, opt_state, key)
        jax.block_until_ready(loss_)
        bare.append(a.chunk / (time.perf_counter() - t))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"train  batch {cfg.train.batch}: diffcli {o:.1f} steps/s, bare jitted loop {b:.1f} steps/s, ratio {o / b:.3f}")

    # Sampling: ms per NFE of Euler at a.steps steps on n points.
    p = state.params
    sampler = sampler_for(setup, make_plan("euler", a.steps, grid="uniform"), a.n)
    apply = setup.apply

    @jax.jit
    def bare_euler(params, key):
        x = jax.random.normal(key, (a.n, 2))
        h = 1.0 / a.steps

        def body(i, x):
            t = 1.0 - i * h
            return x - h * apply(params)(jnp.full((a.n,), t), x)

        return jax.lax.fori_loop(0, a.steps, body, x)

    sampler(p, 0)
    jax.block_until_ready(bare_euler(p, jax.random.key(0)))
    ours, bare = [], []
    for r in range(a.rounds):
        res = sampler(p, r)
        ours.append(1e3 * res.seconds / res.nfe)
        t = time.perf_counter()
        jax.block_until_ready(bare_euler(p, jax.random.key(r)))
        bare.append(1e3 * (time.perf_counter() - t) / a.steps)
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"sample euler {a.steps} steps, n {a.n}: diffcli {o:.3f} ms/NFE, bare jitted loop {b:.3f} ms/NFE, "
          f"ratio {o / b:.3f}")

    times = []
    for _ in range(a.rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "diffcli", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    print(f"diffcli --help: median {statistics.median(times):.3f} s over {a.rounds} runs")


if __name__ == "__main__":
    main()
