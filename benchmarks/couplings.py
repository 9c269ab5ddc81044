"""Straighter paths from training (issue 10's targets): independent coupling, minibatch OT
coupling and the 2-rectified flow (reflow), each over several training seeds × sampling seeds.

    .venv/bin/python benchmarks/couplings.py [--seeds 0,1,2] [--independent demo-rf-cat,rf-seed1,rf-seed2]
                                             [--sample-seeds 5] [--out couplings.json] [--figure docs/couplings.png]

For each training seed s it uses (training what is missing, through diffcli's own commands):
  independent  the default recipe (configs/rf_cat.toml) at seed s (--independent names them);
  ot           configs/rf_cat_ot.toml at seed s, run ot-seed<s>;
  2-rf         `diffcli reflow <independent run>` with its defaults, run rf2-seed<s>.
Then for every run: `diffcli inspect` (straightness), benches at NFE 1, 2, 4, 8 (euler; heun and
dpm++2m from NFE 2) on the uniform and power grids (no fitting), grid fits at NFE 2, 4, 8 and the
same benches on the fitted grids ("best of everything"). Prints, per kind and NFE, the mean over
training seeds of the best mean CD (over the sampling seeds), unfitted and fitted; straightness;
training steps/s; reflow's cost against its parent's training. Writes everything to --out and
the trajectories of one seed of each kind side by side to --figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from _cli import diffcli

BUDGETS = [1, 2, 4, 8]
SOLVERS = {"euler": [1, 2, 4, 8], "heun": [2, 4, 8], "dpm++2m": [2, 4, 8]}
FITS = {"euler": [2, 4, 8], "heun": [4, 8], "dpm++2m": [2, 4, 8]}
KINDS = ["independent", "ot", "2-rf"]



def run_dir(name: str) -> Path:
    return Path(name) if Path(name).is_dir() else Path("runs") / name


def trained(name: str) -> bool:
    return (run_dir(name) / "summary.json").is_file()


def bench_rows(run: str, grids: str, seeds: int, solvers: dict[str, list[int]]) -> list[dict]:
    rows = []
    for solver, budgets in solvers.items():
        diffcli("bench", run, "--solvers", solver, "--steps", "", "--tols", "", "--nfe", ",".join(map(str, budgets)),
                "--grids", grids, "--seeds", str(seeds), "--metrics", "cd,w2", "-q")
        rows += json.loads((run_dir(run) / "bench.json").read_text())["rows"]
    return rows


def best(rows: list[dict], nfe: int) -> dict | None:
    ok = [r for r in rows if r["nfe"] <= nfe and r.get("cd") is not None]
    return min(ok, key=lambda r: r["cd"]) if ok else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--independent", default="demo-rf-cat,rf-seed1,rf-seed2")
    ap.add_argument("--sample-seeds", type=int, default=5)
    ap.add_argument("--out", default="couplings.json")
    ap.add_argument("--figure", default="docs/couplings-trajectories.png")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    indep = a.independent.split(",")
    report: dict = {"runs": {}}
    for s, base in zip(seeds, indep, strict=True):
        names = {"independent": base, "ot": f"ot-seed{s}", "2-rf": f"rf2-seed{s}"}
        walls = {}
        if not trained(base):
            walls["independent"] = diffcli("train", "--config", "configs/rf_cat.toml", "--seed", str(s),
                                           "--name", base, "-q")
        if not trained(names["ot"]):
            walls["ot"] = diffcli("train", "--config", "configs/rf_cat_ot.toml", "--seed", str(s),
                                  "--name", names["ot"], "-q")
        if not trained(names["2-rf"]):
            walls["2-rf"] = diffcli("reflow", base, "--name", names["2-rf"], "-q")
        for kind, name in names.items():
            diffcli("inspect", name, "-q")
            for solver, nfes in FITS.items():
                diffcli("grid", "fit", name, "--solver", solver, "--nfe", ",".join(map(str, nfes)), "-q")
            plain = bench_rows(name, "uniform,power", a.sample_seeds, SOLVERS)
            fitted = bench_rows(name, "fitted", a.sample_seeds, FITS)
            d = run_dir(name)
            summary = json.loads((d / "summary.json").read_text())
            info = json.loads((d / "run.json").read_text())
            report["runs"][name] = {
                "kind": kind, "seed": s, "straightness": json.loads((d / "straightness.json").read_text()),
                "steps_per_s": summary["steps_per_s"], "train_seconds": summary["seconds"],
                "command_seconds": walls.get(kind), "reflow": info.get("reflow"),
                "plain": {n: best(plain, n) for n in BUDGETS}, "fitted": {n: best(plain + fitted, n) for n in BUDGETS},
            }
        r = report["runs"][names["2-rf"]]  # reflow's whole cost against one base training
        parent = report["runs"][base]["train_seconds"]
        cost = r["reflow"]["pairs"]["seconds"] + r["train_seconds"]
        r["reflow_cost"] = {"pairs_s": r["reflow"]["pairs"]["seconds"], "train_s": r["train_seconds"],
                            "parent_train_s": parent, "ratio": cost / parent}
    _print(report, seeds)
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    _figure(report, seeds[0], a.figure)


def _print(report: dict, seeds: list[int]) -> None:
    runs = report["runs"].values()
    print(f"\nmean over {len(seeds)} training seeds (each: the best mean CD over the sampling seeds at NFE ≤ budget)")
    print(f"{'':12} " + " ".join(f"{'NFE ' + str(n):>22}" for n in BUDGETS) + f" {'straightness':>14} {'steps/s':>8}")
    for kind in KINDS:
        rs = [r for r in runs if r["kind"] == kind]
        for which in ("plain", "fitted"):
            cells = []
            for n in BUDGETS:
                v = [r[which][n]["cd"] for r in rs]
                cells.append(f"{np.mean(v):.4f} ({min(v):.4f}–{max(v):.4f})")
            tail = (f" {np.mean([r['straightness']['straightness'] for r in rs]):14.4f}"
                    f" {np.mean([r['steps_per_s'] for r in rs]):8.1f}") if which == "plain" else ""
            print(f"{kind + ' ' + which:12} " + " ".join(f"{c:>22}" for c in cells) + tail)
    for r in runs:
        if "reflow_cost" in r:
            c = r["reflow_cost"]
            print(f"reflow seed {r['seed']}: pairs {c['pairs_s']:.1f} s + training {c['train_s']:.1f} s = "
                  f"{c['ratio']:.2f} × the parent's training ({c['parent_train_s']:.1f} s)")


def _figure(report: dict, seed: int, path: str) -> None:
    """One seed's trajectories of each kind side by side (Tsit5, the same prior draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {r["kind"]: n for n, r in report["runs"].items() if r["seed"] == seed}
    fig, axes = plt.subplots(1, len(KINDS), figsize=(4.2 * len(KINDS), 4.2), sharex=True, sharey=True)
    for ax, kind in zip(axes, KINDS, strict=True):
        name = names[kind]
        subprocess.run([sys.executable, "-m", "diffcli", "sample", name, "--solver", "tsit5", "--rtol", "1e-4",
                        "--n", "200", "--seed", "0", "--trajectories", "40", "-q"], check=True)
        traj = sorted((run_dir(name) / "samples").glob("tsit5*-n200-seed0-trajectories.npy"))[-1]
        x = np.load(traj)  # (k, T, 2)
        for p in x:
            ax.plot(p[:, 0], p[:, 1], lw=0.8, alpha=0.8)
        ax.scatter(x[:, 0, 0], x[:, 0, 1], s=6, c="k", label="t = 1")
        ax.scatter(x[:, -1, 0], x[:, -1, 1], s=6, c="C3", label="t = 0")
        st = report["runs"][name]["straightness"]["straightness"]
        ax.set_title(f"{kind} ({name})\nstraightness {st:.3g}")
        ax.set_aspect("equal")
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
