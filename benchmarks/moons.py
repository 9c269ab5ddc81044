"""8 gaussians → moons (OT-CFM's benchmark): W2 of independent against minibatch-OT coupling at
one Euler step and with an adaptive solver, over sampling seeds.

    .venv/bin/python benchmarks/moons.py [--seeds 5] [--out moons.json]

Trains runs moons-independent and moons-ot from configs/rf_8gaussians_moons.toml where missing
(the OT one with model.coupling = "ot" over the whole batch of 256), then benches euler at NFE 1,
2, 4 and tsit5 at rtol = atol = 1e-3, 1e-4 in the max and the RMS norm (W2 and CD against 2000
fresh moons points per seed), and the straightness of each. Prints the data floor (two fresh
2000-point draws of the moons against each other) beside them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _cli import diffcli

RUNS = {"independent": [], "ot": ["--set", "model.coupling=ot"]}



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default="moons.json")
    a = ap.parse_args()
    report = {}
    for kind, extra in RUNS.items():
        name = f"moons-{kind}"
        if not (Path("runs") / name / "summary.json").is_file():
            diffcli("train", "--config", "configs/rf_8gaussians_moons.toml", "--name", name, "--overwrite", "-q", *extra)
        diffcli("inspect", name, "-q")
        rows = []
        for args in (["--solvers", "euler", "--steps", "1,2,4", "--tols", ""],
                     ["--solvers", "tsit5", "--steps", "", "--tols", "1e-3,1e-4"],
                     ["--solvers", "tsit5", "--steps", "", "--tols", "1e-3,1e-4", "--norm", "rms"]):
            diffcli("bench", name, *args, "--seeds", str(a.seeds), "--metrics", "w2,cd", "-q")
            b = json.loads((Path("runs") / name / "bench.json").read_text())
            rows += [{k: r.get(k) for k in ("name", "nfe", "w2", "w2_sd", "cd", "cd_sd")} | {"norm": args[-1]}
                     for r in b["rows"]]
        s = json.loads((Path("runs") / name / "summary.json").read_text())
        report[kind] = {"rows": rows, "floor": b["floor"],
                        "straightness": json.loads((Path("runs") / name / "straightness.json").read_text())["straightness"],
                        "steps_per_s": s["steps_per_s"], "train_seconds": s["seconds"]}
    for kind, r in report.items():
        f = r["floor"]
        print(f"\n{kind}: straightness {r['straightness']:.4f}, {r['steps_per_s']:.0f} training steps/s; "
              f"data floor W2 {f['w2']:.4f} ± {f['w2_sd']:.4f}, CD {f['cd']:.4f}")
        for row in r["rows"]:
            norm = " (rms norm)" if row["norm"] == "rms" else ""
            print(f"  {row['name'] + norm:<34} NFE {row['nfe']:>6.1f}  W2 {row['w2']:.4f} ± {row['w2_sd'] or 0:.4f}  "
                  f"CD {row['cd']:.4f}")
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
