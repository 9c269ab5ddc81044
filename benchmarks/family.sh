#!/usr/bin/env bash
# Train every process on the cat with its default config, bench its samplers, compute its NLL.
#   bash benchmarks/family.sh [models...]      (default: vpsde vesde ddpm bridge)
# Outputs land in runs/family-<model>/ (bench.json, bench.csv, likelihood/*.json).
set -euo pipefail
cd "$(dirname "$0")/.."
D=.venv/bin/diffcli
for m in "${@:-vpsde vesde ddpm bridge}"; do
  for model in $m; do
    $D train --config configs/${model}_cat.toml --name family-$model --overwrite
    case $model in
      ddpm)   solvers=euler,heun,euler-maruyama,pc,ddim,ancestral; steps=10,20,50,100,200,1000 ;;
      bridge) solvers=euler,heun,tsit5,bridge;                     steps=10,20,50,100,200 ;;
      *)      solvers=euler,heun,tsit5,euler-maruyama,pc,ddim;     steps=10,20,50,100,200 ;;
    esac
    $D bench family-$model --solvers $solvers --steps $steps --tols 1e-2,1e-3 --seeds 5
    $D likelihood family-$model --n 2000 --rtol 1e-4 --atol 1e-4
  done
done
