"""The fewest NFE for the quality (issue 9's targets): for each trained run, fit grids for every
deterministic few-step solver, bench every solver × grid at NFE 4 … 20 plus tight adaptive solves
(the plateau), and print each run's best at each budget against its plateau, then the mean over
the runs.

    .venv/bin/python benchmarks/budgets.py RUN [RUN ...] [--seeds 5] [--out budgets.json]

Everything goes through diffcli's own commands (grid fit, bench), so each run keeps its
grids.json and bench.json; this script only reads bench.json back and aggregates. "Plateau" is
the run's best mean CD of any setting benched (as the issue defines it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _cli import diffcli

SOLVERS = ["euler", "heun", "dpm++2m", "dpm++3m"]  # fitted and benched at every budget
BENCHED = SOLVERS + ["tsit5"]  # tsit5 (from NFE 7: one step) also gives the plateau (tight tolerances)
BUDGETS = [4, 6, 8, 10, 16, 20]
GRIDS = ["uniform", "power", "edm", "logsnr", "fitted"]
TOLS = ["1e-3", "5e-4"]



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default="budgets.json")
    a = ap.parse_args()
    nfe = ",".join(map(str, BUDGETS))
    report = {}
    for run in a.runs:
        fit_s = {s: diffcli("grid", "fit", run, "--solver", s, "--nfe", nfe, "-q") for s in SOLVERS}
        tsit5 = ",".join(str(b) for b in BUDGETS if b >= 7)  # one Tsit5 step takes 7
        fit_s["tsit5"] = diffcli("grid", "fit", run, "--solver", "tsit5", "--nfe", tsit5, "-q")
        diffcli("bench", run, "--solvers", ",".join(BENCHED), "--steps", "", "--nfe", nfe, "--grids", ",".join(GRIDS),
                "--tols", ",".join(TOLS), "--seeds", str(a.seeds), "--metrics", "cd", "-q")
        b = json.loads((Path("runs") / run / "bench.json").read_text() if not Path(run).is_dir()
                       else (Path(run) / "bench.json").read_text())
        report[run] = {"fit_seconds": fit_s, "best": b["best"], "plateau": min(r["cd"] for r in b["rows"]),
                       "rows": [{k: r[k] for k in ("name", "nfe", "cd", "cd_sd")} for r in b["rows"]]}
        print(f"\n{run}: plateau CD {report[run]['plateau']:.4f}; grid fit seconds "
              + ", ".join(f"{k} {v:.1f}" for k, v in fit_s.items()))
        for x in b["best"]:
            print(f"  NFE ≤ {x['budget']:>2}: {x['name']:<24} CD {x['cd']:.4f}  {100 * x['above_plateau']:+.1f}%")
    print("\nmean over runs of (best at budget / plateau − 1):")
    for i, bud in enumerate(BUDGETS):
        vals = [r["best"][i]["above_plateau"] for r in report.values() if len(r["best"]) > i]
        print(f"  NFE ≤ {bud:>2}: {100 * sum(vals) / len(vals):+.1f}%  (runs: "
              + ", ".join(f"{100 * v:+.1f}%" for v in vals) + ")")
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
