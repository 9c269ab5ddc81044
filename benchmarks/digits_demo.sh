#!/usr/bin/env bash
# The digits demo timed, for the CPU-against-GPU table in the README: make demo-digits's training
# (configs/rf_digits.toml, the MLP) and bench, then the same recipe with the U-Net (a shorter
# bench: heun 20 steps at w = 0, 1, 2). Prints training steps/s (compilation excluded), compile and
# wall seconds, and the bench's wall seconds. Usage: bash benchmarks/digits_demo.sh [OUT]
# (on the device tool's GPU machine: wheels of scikit-learn and friends carried in .whl/).
# UNET_STEPS=200 times the U-Net's training alone (a CPU trains it at ~4 steps/s) and skips its bench.
set -euo pipefail
OUT=${1:-/tmp/digits-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
D="python3 -m diffcli"
python3 -c "import jax; print('jax', jax.__version__, jax.devices())" | tee "$OUT/digits.txt"
summary() {
  python3 -c "import json; s = json.load(open('runs/$1/summary.json')); print('$1: %.1f steps/s, compile %.1f s, train wall %.1f s' % (s['steps_per_s'], s['compile_seconds'], s['seconds']))"
}
bench() {  # the bench's wall seconds and its best rows
  local t0=$(date +%s.%N)
  $D bench "$@" -q
  python3 -c "import sys; print('bench %s: %.1f s' % (sys.argv[1], float(sys.argv[3]) - float(sys.argv[2])))" "$1" "$t0" "$(date +%s.%N)"
  python3 -c "
import json; b = json.load(open('runs/$1/bench.json'))
f = b['floor']; print('  floor: FD %.3f ± %.3f, Acc %.4f' % (f['fd'], f['fd_sd'], f['acc']))
for r in b['rows']: print('  %-22s NFE %3.0f  FD %8.3f  Acc %.4f  %.1f ms/call' % (r['label'].replace(' steps', ''), r['nfe'], r['fd'], r['acc'], r['ms_per_call']))"
}
$D train --config configs/rf_digits.toml --name digits-mlp --overwrite -q
summary digits-mlp | tee -a "$OUT/digits.txt"
bench digits-mlp --solvers euler,heun --steps 10,20 --tols '' --seeds 3 --guidance 0,0.5,1,2,4 | tee -a "$OUT/digits.txt"
UNET_STEPS=${UNET_STEPS:-6000}
$D train --config configs/rf_digits.toml --set network.name=unet --steps "$UNET_STEPS" --set train.chunk=50 \
   --set train.warmup=$((UNET_STEPS < 2000 ? UNET_STEPS / 10 : 200)) --name digits-unet --overwrite -q
summary digits-unet | tee -a "$OUT/digits.txt"
if [ "$UNET_STEPS" -ge 6000 ]; then
  bench digits-unet --solvers heun --steps 20 --tols '' --seeds 3 --guidance 0,1,2 | tee -a "$OUT/digits.txt"
fi
