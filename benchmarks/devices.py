"""Training on 1 and on 2 simulated CPU devices, side by side: steps/s (median over rounds) and how
far the losses of the two are apart.

Each run is `diffcli train` in its own process, XLA_FLAGS=--xla_force_host_platform_device_count=K
making K devices of this machine's CPU; the batch is split over them (diffcli/devices.py). On a
2-core machine 2 simulated devices share the same 2 cores, so no speed-up is expected: the point is
that the same command shards and agrees. Usage: python benchmarks/devices.py [--rounds 3] [--steps 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

RECIPES = {  # name: diffcli train arguments
    "cat (MLP 256, batch 2048)": ["--config", "configs/rf_cat.toml"],
    "digits (conditional MLP 512, batch 256)": ["--config", "configs/rf_digits.toml"],
}


def train(args: list[str], devices: int, steps: int, root: Path, name: str) -> tuple[float, np.ndarray]:
    """steps/s of one run and its logged losses per chunk: (mean, min, max) rows."""
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    subprocess.run([sys.executable, "-m", "diffcli", "train", *args, "--steps", str(steps), "--set", "train.warmup=0",
                    "--runs-dir", str(root), "--name", name, "--overwrite", "-q"], env=env, check=True)
    s = json.loads((root / name / "summary.json").read_text())
    rows = [json.loads(line) for line in (root / name / "metrics.jsonl").read_text().splitlines()]
    assert json.loads((root / name / "run.json").read_text())["devices"] == devices
    return s["steps_per_s"], np.array([[r["loss"], r["loss_min"], r["loss_max"]] for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    print(f"{'recipe':42s} {'1 device':>12s} {'2 devices':>12s} {'ratio':>6s}  max |Δloss|/loss (chunk mean, min, max)")
    for label, args in RECIPES.items():
        sps: dict[int, list[float]] = {1: [], 2: []}
        losses = {}
        for r in range(a.rounds):
            for k in (1, 2):  # alternating, so drifts of the machine's speed hit both
                s, losses[k] = train(args, k, a.steps, root, f"dev{k}-{r}")
                sps[k].append(s)
        m1, m2 = np.median(sps[1]), np.median(sps[2])
        gap = float(np.max(np.abs(losses[2] - losses[1]) / np.abs(losses[1])))  # over the chunks' mean, min and max
        print(f"{label:42s} {m1:9.1f} /s {m2:9.1f} /s {m2 / m1:6.2f}  {gap:.1e}")


if __name__ == "__main__":
    main()
