#!/usr/bin/env bash
# The couplings and reflow on a GPU (the device tool's machine; wheels of ott-jax, jaxopt and POT
# carried in .whl/, everything else from its image): coupling cost side by side, then a short
# OT-coupled training, a reflow of it and one-step sampling of the child, to check that the same
# code runs there. Usage: bash benchmarks/gpu_couplings.sh [OUT]
set -euo pipefail
OUT=${1:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
python3 benchmarks/coupling_speed.py --rounds 5 --chunk 100 2>&1 | tee "$OUT/coupling_speed.txt"
python3 -m diffcli train --config configs/rf_cat_ot.toml --steps 2000 --name gpu-ot --overwrite -q
grep steps_per runs/gpu-ot/summary.json | tee -a "$OUT/runs.txt"
python3 -m diffcli reflow gpu-ot --pairs 100000 --train-steps 2000 --name gpu-rf2 --overwrite 2>&1 | tail -12 | tee -a "$OUT/runs.txt"
python3 -m diffcli sample gpu-rf2 --solver euler --steps 1 --json | grep -E '"cd"|"nfe"' | head -2 | tee -a "$OUT/runs.txt"
python3 -m diffcli inspect gpu-rf2 | tee -a "$OUT/runs.txt"
