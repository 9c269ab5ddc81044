#!/usr/bin/env bash
# Sinkhorn couplings against independent and exact OT at the default recipe's 12000 steps, on a
# GPU (the device tool's machine, wheels in .whl/ as for gpu_couplings.sh): straightness, CD at
# Euler 1 and 4 steps and Heun 2 steps (NFE 4), training steps/s. Usage: bash benchmarks/gpu_sinkhorn.sh
set -euo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
D="python3 -m diffcli"
for spec in "independent 32 0.01" "sinkhorn 256 0.05" "sinkhorn 256 0.01" "sinkhorn 32 0.01"; do
  set -- $spec
  name="g-$1-$2-$3"
  $D train --config configs/rf_cat.toml --set model.coupling=$1 --set model.coupling_block=$2 \
     --set model.coupling_epsilon=$3 --name "$name" --overwrite -q
  sps=$(python3 -c "import json; print(round(json.load(open('runs/$name/summary.json'))['steps_per_s'], 1))")
  st=$($D inspect "$name" --json | python3 -c "import json,sys; print(round(json.load(sys.stdin)['straightness'], 5))")
  cds=""
  for a in "euler 1" "euler 4" "heun 2"; do
    set -- $a
    cds="$cds $1-$2 $($D sample "$name" --solver $1 --steps $2 --json | python3 -c "import json,sys; print(round(json.load(sys.stdin)['cd'], 4))")"
  done
  echo "$spec: $sps steps/s, straightness $st, CD$cds"
done
