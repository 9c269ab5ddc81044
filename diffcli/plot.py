"""`diffcli plot`: figures of a run, from whatever it has.

plots/samples.png       samples (Heun, 20 steps, seed 0) over fresh reference data
plots/trajectories.png  20 trajectories from the prior (t = 1) to data (t = 0)
plots/flow.gif          the whole particle cloud flowing from t = 1 to t = 0
plots/loss.png          training loss over steps (from metrics.jsonl)
plots/bench.png         CD and MMD² against NFE per solver, data floor drawn in (from bench.json)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from diffcli.runs import atomic_path

PLOT_SOLVER, PLOT_STEPS, PLOT_SEED, N_TRAJ = "heun", 20, 0, 20


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:], dpi=120, bbox_inches="tight")
    return path


def plot_run(run) -> tuple[list[Path], list[str]]:
    """Returns (files written, things that could not be plotted and why)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from diffcli.sampling.api import reference_data, sampler_for, weights
    from diffcli.sampling.plan import make_plan
    from diffcli.training.loop import load_losses
    from diffcli.training.restore import load_run

    run_dir, setup, state = load_run(run)
    out = run_dir / "plots"
    made, missing = [], []
    n = setup.cfg.sample.n
    plan = make_plan(PLOT_SOLVER, PLOT_STEPS, grid=setup.cfg.sample.grid, grid_power=setup.cfg.sample.grid_power)
    res = sampler_for(setup, plan, n, trajectories=n)(weights(setup, state), PLOT_SEED)
    ref = np.asarray(reference_data(setup, n, PLOT_SEED))
    traj, times = res.trajectories, res.traj_times  # (n, T, dim), (T,)
    dims = (0, 1) if setup.dataset.dim >= 2 else (0, 0)
    lim = _limits(np.concatenate([ref, res.samples]), dims)

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*ref[:, dims].T, s=2, c="0.7", label="data")
    ax.scatter(*res.samples[:, dims].T, s=2, c="C0", label=f"samples ({plan.label()})")
    _style(ax, lim, f"{setup.cfg.model.process} on {setup.dataset.name}")
    ax.legend(loc="upper right", markerscale=4, fontsize=8)
    made.append(_save(fig, out / "samples.png"))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*ref[:, dims].T, s=2, c="0.8")
    for k in range(min(N_TRAJ, n)):
        ax.plot(*traj[k][:, dims].T, lw=0.8, c="C1", alpha=0.8)
        ax.scatter(*traj[k][0, dims], s=8, c="k")
        ax.scatter(*traj[k][-1, dims], s=8, c="C3")
    _style(ax, _limits(np.concatenate([ref, traj[:N_TRAJ].reshape(-1, traj.shape[-1])]), dims),
           f"{N_TRAJ} trajectories, t = {times[0]:g} (black) → {times[-1]:g} (red)")
    made.append(_save(fig, out / "trajectories.png"))
    plt.close(fig)

    made.append(_gif(plt, traj, times, ref, dims, out / "flow.gif"))

    losses = load_losses(run_dir)
    if len(losses):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(losses[:, 0], losses[:, 1])
        ax.set(xlabel="step", ylabel="loss (mean over a chunk)", yscale="log", title="training loss")
        ax.grid(alpha=0.3)
        made.append(_save(fig, out / "loss.png"))
        plt.close(fig)
    else:
        missing.append("loss.png: the run has no readable metrics.jsonl")

    bench = run_dir / "bench.json"
    try:
        b = json.loads(bench.read_text())
        made.append(_bench_plot(plt, b, out / "bench.png"))
    except FileNotFoundError:
        missing.append(f"bench.png: no bench yet; run 'diffcli bench {run_dir}'")
    except (ValueError, KeyError, TypeError) as e:
        missing.append(f"bench.png: {bench} is unreadable ({e})")
    return made, missing


def _limits(x: np.ndarray, dims) -> tuple[float, float, float, float]:
    lo, hi = np.percentile(x[:, dims], 0.5, axis=0), np.percentile(x[:, dims], 99.5, axis=0)
    pad = 0.1 * (hi - lo).max()
    return lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad


def _style(ax, lim, title: str) -> None:
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)


def _gif(plt, traj, times, ref, dims, path: Path) -> Path:
    from matplotlib.animation import FuncAnimation, PillowWriter

    lim = _limits(np.concatenate([ref, traj.reshape(-1, traj.shape[-1])]), dims)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(*ref[:, dims].T, s=1, c="0.85")
    pts = ax.scatter(*traj[:, 0][:, dims].T, s=2, c="C0")
    _style(ax, lim, "")
    frames = list(range(len(times))) + [len(times) - 1] * 5  # hold the last frame

    def update(i):
        pts.set_offsets(traj[:, i][:, dims])
        ax.set_title(f"t = {times[i]:.3f}", fontsize=10)
        return (pts,)

    anim = FuncAnimation(fig, update, frames=frames, blit=False)
    with atomic_path(path) as tmp:
        anim.save(tmp, writer=PillowWriter(fps=8))
    plt.close(fig)
    return path


def _bench_plot(plt, b: dict, path: Path) -> Path:
    rows, floor = b["rows"], b["floor"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r["solver"] + (" adaptive" if r["steps"] is None else ""), []).append(r)
    for ax, key, name in ((axes[0], "cd", "CD"), (axes[1], "mmd2", "MMD²")):
        for label, rs in groups.items():
            rs = sorted(rs, key=lambda r: r["nfe"])
            ax.errorbar([r["nfe"] for r in rs], [r[key] for r in rs], yerr=[r[key + "_sd"] for r in rs],
                        marker="o", ms=4, capsize=2, label=label)
        ax.axhline(floor[key], c="k", ls="--", lw=1, label="data floor")
        ax.axhspan(floor[key] - floor[key + "_sd"], floor[key] + floor[key + "_sd"], color="k", alpha=0.08)
        ax.set(xscale="log", yscale="log", xlabel="NFE (network evaluations)", ylabel=name, title=f"{name} against NFE")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path
