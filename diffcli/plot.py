"""`diffcli plot`: figures of a run, from whatever it has.

plots/samples.png       samples (the model's default solver — heun where it has an ODE —, 20
                        steps, seed 0) over fresh reference data; for images, a grid of them
plots/trajectories.png  20 trajectories from the prior (t = 1) to data (t = 0); for images, a
                        strip of x_t at several t for a few samples
plots/flow.gif          the whole particle cloud (or a grid of images) flowing from t = 1 to t = 0
plots/loss.png          training loss over steps (from metrics.jsonl)
plots/bench.png         each benched metric against NFE per solver, data floor drawn in (bench.json)
plots/classes.png       a class-conditional model: a row of samples per class, one panel per
                        guidance scale (--guidance, else the bench's scales, else 0 and 2)
plots/guidance.png      what guidance trades: each benched metric against the guidance scale w,
                        one line per solver setting, data floor drawn in (a bench over several w)

Points with more than two coordinates are drawn in their first two (the titles say so).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from diffcli.runs import atomic_path

PLOT_STEPS, PLOT_SEED, N_TRAJ = 20, 0, 20
N_IMAGES = 8  # images per side of the sample grid


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:], dpi=120, bbox_inches="tight")
    return path


def plot_run(run, solver: str | None = None, steps: int | None = None, n: int | None = None, fmt: str = "png",
             out: str | Path | None = None, seed: int = PLOT_SEED,
             guidance: list[float] | None = None) -> tuple[list[Path], list[str]]:
    """Returns (files written, things that could not be plotted and why).

    The samples and trajectories come from samples/ when that solver, step count, n and seed
    were sampled (with trajectories) before, else they are sampled now and saved there, so the
    next plot reuses them. `fmt`: png, pdf or svg (the flow is always a GIF); `out`: a folder
    (default: the run's plots/)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from diffcli.sampling.api import plan_for
    from diffcli.scoring import reference_data
    from diffcli.training.loop import load_losses
    from diffcli.training.restore import load_run

    if fmt not in FORMATS:
        from diffcli.errors import choice_error

        raise choice_error("plot format", fmt, FORMATS)
    run_dir, setup, state = load_run(run)
    out = Path(out) if out is not None else run_dir / "plots"
    made, missing = [], []
    images = len(setup.dataset.shape) == 3
    n = n or (N_IMAGES**2 if images else setup.cfg.sample.n)
    plan = plan_for(setup, solver, steps or PLOT_STEPS, run_dir=run_dir)
    bench = run_dir / "bench.json"
    try:
        b = json.loads(bench.read_text())
    except FileNotFoundError:
        b, missing = None, [f"bench.{fmt}: no bench yet; run 'diffcli bench {run_dir}'"]
    except (ValueError, KeyError, TypeError) as e:
        b, missing = None, [f"bench.{fmt}: {bench} is unreadable ({e})"]
    ws = _class_guidance(setup, guidance, b)  # checked before anything is sampled
    res = _samples(run_dir, setup, state, plan, n, seed)
    ref = np.asarray(reference_data(setup.dataset, n, seed))
    title = f"{run_dir.name}: {setup.cfg.model.process} on {setup.dataset.name}, {n} samples, seed {seed}"
    if images:
        made += _image_plots(plt, res, ref, plan, title, out, fmt)
    else:
        made += _point_plots(plt, res, ref, plan, title, out, fmt, _straightness_note(run_dir, setup, state))
    if setup.n_classes:
        made.append(_class_plot(plt, run_dir, setup, state, plan, seed, ws, images, title, out / f"classes.{fmt}"))

    losses = load_losses(run_dir)
    if len(losses):
        made.append(_loss_plot(plt, losses, run_dir.name, out / f"loss.{fmt}"))
    else:
        missing.append(f"loss.{fmt}: the run has no readable metrics.jsonl")

    if b is not None:
        try:
            made.append(_bench_plot(plt, b, out / f"bench.{fmt}", run_dir.name))
            if len(b.get("meta", {}).get("guidance") or []) > 1:
                made.append(_guidance_plot(plt, b, out / f"guidance.{fmt}", run_dir.name))
        except (ValueError, KeyError, TypeError) as e:
            missing.append(f"bench.{fmt}: {bench} is unreadable ({e})")
    return made, missing


CLASS_GUIDANCE = (0.0, 2.0)  # the guidance scales of classes.png without a bench or --guidance


def _class_guidance(setup, guidance: list[float] | None, bench: dict | None) -> list[float]:
    """classes.png's guidance scales: --guidance, else the bench's, else CLASS_GUIDANCE; each
    checked (--guidance on an unconditional run is an error, as in sample)."""
    from diffcli.conditioning import check_guidance, check_guide_trained

    if not setup.n_classes:
        for w in guidance or []:
            check_guidance(w, None, 0)
        return []
    ws = guidance or (bench or {}).get("meta", {}).get("guidance") or list(CLASS_GUIDANCE)
    for w in ws:
        check_guidance(w, None, setup.n_classes)
        check_guide_trained(setup, w)
    return ws
PER_CLASS = 8  # samples per class in classes.png


def _class_plot(plt, run_dir: Path, setup, state, plan, seed: int, ws, images: bool, title: str, path: Path) -> Path:
    """One panel per guidance scale: images, a row per class (or points coloured by class)."""
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import sample_loaded

    k = setup.n_classes
    n = k * PER_CLASS
    fig, axes = plt.subplots(1, len(ws), figsize=(3.2 * len(ws), 3.4 if images else 3.6), squeeze=False)
    for ax, w in zip(axes[0], ws):
        res = sample_loaded(run_dir, setup, state, plan, n if images else 100 * k, seed, guide=Guide(w))[1].result
        if images:
            _show(ax, _tile(res.samples, PER_CLASS), -1.0, 1.0)
        else:
            ax.scatter(res.samples[:, 0], res.samples[:, 1], c=res.labels, cmap="tab10", s=3, vmin=0, vmax=max(k - 1, 1))
            ax.set_aspect("equal")
        ax.set_title(f"w = {w:g}" + (f" · rows: classes 0–{k - 1}" if images else ""), fontsize=9)
    fig.suptitle(f"{title.split(',')[0]}: classifier-free guidance, {plan.label()}", fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return path


def _guidance_plot(plt, b: dict, path: Path, run_name: str = "") -> Path:
    """Each benched metric against the guidance scale w, a line per solver setting (its NFE in the
    label), the data floor dashed."""
    from diffcli.metrics import METRICS

    names = b.get("meta", {}).get("metrics") or ["cd", "mmd2"]
    lines: dict[str, list] = {}
    for r in b["rows"]:
        if r.get("guidance") is not None:
            lines.setdefault(r["label"].rsplit(" w=", 1)[0], []).append(r)
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.8), squeeze=False)
    for ax, key in zip(axes[0], names):
        label = METRICS.get(key).label if key in METRICS else key
        for name, rs in lines.items():
            rs = sorted(rs, key=lambda r: r["guidance"])
            ax.errorbar([r["guidance"] for r in rs], [r[key] for r in rs], yerr=[_finite(r[key + "_sd"]) for r in rs],
                        marker="o", ms=4, capsize=2, label=f"{name} (NFE {rs[0]['nfe']:.0f}→{rs[-1]['nfe']:.0f})")
        ax.axhline(b["floor"][key], c="k", ls="--", lw=1, label="data floor")
        ax.set(xlabel="guidance scale w", ylabel=label, title=f"{label} against w")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{run_name}: what guidance trades ({b.get('meta', {}).get('seeds', '?')} seeds, mean ± sample sd)",
                 fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return path


FORMATS = ("png", "pdf", "svg")


def _samples(run_dir: Path, setup, state, plan, n: int, seed: int):
    """The plan's samples with every trajectory: from samples/ when there, else sampled and saved."""
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import result_stem, sample_loaded
    from diffcli.sampling.driver import SampleResult

    stem = run_dir / "samples" / result_stem(setup, plan.label(), n, seed, None, Guide())
    files = [stem.with_name(stem.name + s) for s in (".npy", "-trajectories.npy", "-trajectory-times.npy")]
    if all(f.is_file() for f in files):
        x, traj, times = (np.load(f) for f in files)
        if traj.shape[0] == n:
            return SampleResult(x, 0, 0, 0, 0, 0.0, traj, times)
    return sample_loaded(run_dir, setup, state, plan, n, seed, trajectories=n)[1].result


def _plain_ticks(ax) -> None:
    """Decimal tick labels (0.05, not 5×10⁻²) on log axes; minor ticks labelled at 2 and 5 only."""
    import math

    from matplotlib.ticker import FuncFormatter

    def minor(v, _):
        return f"{v:g}" if v > 0 and round(v / 10 ** math.floor(math.log10(v))) in (2, 5) else ""

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(FuncFormatter(minor))


def _loss_plot(plt, losses: np.ndarray, name: str, path: Path) -> Path:
    """The chunks' mean loss with their min–max band, and the learning rate on its own axis."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.fill_between(losses[:, 0], losses[:, 2], losses[:, 3], color="C0", alpha=0.2, lw=0, label="min–max in a chunk")
    ax.plot(losses[:, 0], losses[:, 1], c="C0", label="mean over a chunk")
    ax.set(xlabel="step", ylabel="loss", yscale="log", title=f"{name}: training loss")
    ax.grid(alpha=0.3)
    if np.isfinite(losses[:, 4]).any():
        lr = ax.twinx()
        lr.plot(losses[:, 0], losses[:, 4], c="C1", lw=1)
        lr.set_ylabel("learning rate", color="C1")
    ax.legend(fontsize=8, loc="upper right")
    _save(fig, path)
    plt.close(fig)
    return path


def _straightness_note(run_dir: Path, setup, state) -> str:
    """The flow's straightness for the trajectories' title, where `diffcli inspect` measured this
    checkpoint (straightness.json); else the command that measures it (a Tsit5 solve of its own,
    which plot does not spend); empty for a model without an ODE."""
    if "ode" not in setup.process.capabilities:
        return ""
    from diffcli.straightness import stored_straightness

    r = stored_straightness(run_dir, setup, state)
    if r is None:
        return f" (straightness: diffcli inspect {run_dir.name})"
    return f", straightness {r.straightness:.3g} ({r.relative:.2g} of the chord's)"


def _point_plots(plt, res, ref, plan, title: str, out: Path, fmt: str, note: str = "") -> list[Path]:
    """Scatter plots of points (n, d), drawn in their first two coordinates."""
    made = []
    n, d = res.samples.shape[0], res.samples[0].size
    samples, ref = res.samples.reshape(n, d), ref.reshape(ref.shape[0], d)
    traj, times = res.trajectories.reshape(n, -1, d), res.traj_times  # (n, T, d), (T,)
    dims = (0, 1) if d >= 2 else (0, 0)
    coords = f" (coordinates 1 and 2 of {d})" if d > 2 else ""
    lim = _limits(np.concatenate([ref, samples]), dims)

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*ref[:, dims].T, s=2, c="0.7", label="data")
    ax.scatter(*samples[:, dims].T, s=2, c="C0", label=f"samples ({plan.label()})")
    _style(ax, lim, title + coords)
    ax.legend(loc="upper right", markerscale=4, fontsize=8)
    made.append(_save(fig, out / f"samples.{fmt}"))
    plt.close(fig)

    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(5.6, 5))
    ax.scatter(*ref[:, dims].T, s=2, c="0.85")
    k = min(N_TRAJ, n)
    segments = np.stack([traj[:k, :-1][..., dims], traj[:k, 1:][..., dims]], axis=2).reshape(-1, 2, 2)
    lines = LineCollection(segments, cmap="viridis", lw=1.0)
    lines.set_array(np.tile(0.5 * (times[:-1] + times[1:]), k))  # each segment coloured by its t
    ax.add_collection(lines)
    fig.colorbar(lines, ax=ax, shrink=0.8, label="t")
    _style(ax, _limits(np.concatenate([ref, traj[:k].reshape(-1, d)]), dims),
           f"{title}\n{k} trajectories ({plan.label()}), t = {times[0]:g} → {times[-1]:g}{coords}{note}")
    made.append(_save(fig, out / f"trajectories.{fmt}"))
    plt.close(fig)

    made.append(_gif(plt, traj, times, ref, dims, out / "flow.gif"))
    return made


def _tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(k, H, W, C) -> one (rows·H, cols·W) grey or (…, 3) colour picture, 1-pixel gaps."""
    k, h, w, c = images.shape
    rows = -(-k // cols)
    canvas = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, c), np.nan)
    for i, im in enumerate(images):
        r, q = divmod(i, cols)
        canvas[r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = im
    return canvas[..., 0] if c == 1 else canvas


def _show(ax, picture: np.ndarray, lo: float, hi: float) -> None:
    ax.imshow(np.clip((picture - lo) / (hi - lo or 1.0), 0, 1), cmap="gray" if picture.ndim == 2 else None,
              interpolation="nearest")
    ax.set_axis_off()


def _image_plots(plt, res, ref, plan, title: str, out: Path, fmt: str) -> list[Path]:
    """A grid of sampled images beside real ones, a strip of x_t at several t, and the flow as a GIF."""
    made = []
    lo, hi = np.percentile(ref, 0.5), np.percentile(ref, 99.5)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.3))
    _show(axes[0], _tile(res.samples, N_IMAGES), lo, hi)
    axes[0].set_title(f"samples ({plan.label()})", fontsize=9)
    _show(axes[1], _tile(ref, N_IMAGES), lo, hi)
    axes[1].set_title("data", fontsize=9)
    fig.suptitle(title, fontsize=10)
    made.append(_save(fig, out / f"samples.{fmt}"))
    plt.close(fig)

    traj, times = res.trajectories, res.traj_times  # (n, T, H, W, C), (T,)
    cols = np.unique(np.linspace(0, len(times) - 1, 8).round().astype(int))
    # six samples spread over the batch (a conditional model's classes come in blocks of rows)
    rows = np.unique(np.linspace(0, len(traj) - 1, 6).round().astype(int))
    strip = traj[rows][:, cols]  # (6, k, H, W, C)
    fig, ax = plt.subplots(figsize=(1.2 * len(cols), 1.2 * len(rows) + 0.5))
    _show(ax, _tile(strip.reshape(-1, *strip.shape[2:]), len(cols)), lo, hi)
    ax.set_title("x_t at t = " + ", ".join(f"{times[c]:.2g}" for c in cols), fontsize=9)
    made.append(_save(fig, out / f"trajectories.{fmt}"))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    pic = ax.imshow(np.zeros((2, 2)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()

    def update(i):
        p = _tile(traj[:, i], N_IMAGES)
        pic.set_data(np.clip((p - lo) / (hi - lo or 1.0), 0, 1))
        pic.set_extent((0, p.shape[1], p.shape[0], 0))
        ax.set_xlim(0, p.shape[1])
        ax.set_ylim(p.shape[0], 0)
        ax.set_title(f"t = {times[i]:.3f}", fontsize=10)
        return (pic,)

    made.append(_animate(plt, fig, update, len(times), out / "flow.gif"))
    return made


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
    every = np.concatenate([ref, traj.reshape(-1, traj.shape[-1])])[:, dims]  # every frame fits: no cloud clipped
    lo, hi = every.min(0), every.max(0)
    pad = 0.05 * (hi - lo).max()
    lim = (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(*ref[:, dims].T, s=1, c="0.85")
    pts = ax.scatter(*traj[:, 0][:, dims].T, s=2, c="C0")
    _style(ax, lim, "")

    def update(i):
        pts.set_offsets(traj[:, i][:, dims])
        ax.set_title(f"t = {times[i]:.3f}", fontsize=10)
        return (pts,)

    return _animate(plt, fig, update, len(times), path)


def _animate(plt, fig, update, n_frames: int, path: Path) -> Path:
    """A GIF of update(0 … n_frames − 1) at 8 frames a second, the last frame held; written atomically."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    anim = FuncAnimation(fig, update, frames=list(range(n_frames)) + [n_frames - 1] * 5, blit=False)
    with atomic_path(path) as tmp:
        anim.save(tmp, writer=PillowWriter(fps=8))
    plt.close(fig)
    return path


def _bench_plot(plt, b: dict, path: Path, run_name: str = "") -> Path:
    """Each benched metric (bench.json's meta.metrics; CD and MMD² for benches that predate it)
    against NFE: each solver setting × time grid's points (mean ± sd) joined by its own Pareto
    front (the best it reaches at or below each NFE), the front over everything in black, the
    data floor as a dashed line and its spread shaded."""
    from diffcli.metrics import METRICS

    rows, floor = b["rows"], b["floor"]
    names = b.get("meta", {}).get("metrics") or ["cd", "mmd2"]
    groups: dict[str, list] = {}
    style: dict[str, tuple] = {}  # colour by solver setting, marker and line by grid
    setting_ids: dict[str, int] = {}
    grid_ids: dict[str, int] = {}
    for r in rows:  # one line per solver setting and grid: its options, and its grid or adaptive
        grid = "adaptive" if r["steps"] is None else r.get("grid", "")
        setting = " ".join(x for x in (r["solver"], r.get("variant", "")) if x) + \
            (f" w={r['guidance']:g}" if r.get("guidance") is not None else "")
        name = f"{setting} {grid}".strip()
        groups.setdefault(name, []).append(r)
        i, j = setting_ids.setdefault(setting, len(setting_ids)), grid_ids.setdefault(grid, len(grid_ids))
        style[name] = (f"C{i % 10}", "osD^vxP*"[j % 8], ("-", "--", ":", "-.")[j % 4])
    big = len(groups) > 8
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names) + (4 if big else 0), 6 if big else 4),
                             squeeze=False)
    for ax, key in zip(axes[0], names):
        name = METRICS.get(key).label if key in METRICS else key
        higher = key in METRICS and METRICS.get(key).higher_is_better
        for label, rs in groups.items():
            rs = sorted(rs, key=lambda r: r["nfe"])
            colour, marker, line = style[label]
            ax.errorbar([r["nfe"] for r in rs], [r[key] for r in rs], yerr=[_finite(r[key + "_sd"]) for r in rs],
                        marker=marker, ms=4, capsize=2, ls="none", c=colour)
            own = pareto_front([(r["nfe"], r[key]) for r in rs], higher)
            ax.plot(*zip(*own), c=colour, ls=line, marker=marker, ms=4, lw=1.2, alpha=0.9, label=label)
        front = pareto_front([(r["nfe"], r[key]) for r in rows], higher)
        ax.step(*zip(*front), where="post", c="k", lw=1.5, alpha=0.6, label="Pareto front")
        ax.axhline(floor[key], c="k", ls="--", lw=1, label="data floor")
        ax.axhspan(floor[key] - _finite(floor[key + "_sd"]), floor[key] + _finite(floor[key + "_sd"]), color="k", alpha=0.08)
        ax.set(xscale="log", yscale="linear" if higher else "log", xlabel="NFE (network evaluations)", ylabel=name,
               title=f"{name} against NFE")
        ax.grid(alpha=0.3, which="both")
        _plain_ticks(ax)
    meta = b.get("meta", {})
    fig.suptitle(f"{run_name}: bench, {meta.get('seeds', '?')} seeds × {meta.get('n', '?')} samples, mean ± sample sd",
                 fontsize=10)
    if big:  # many lines: the legend beside the panels
        axes[0][-1].legend(fontsize=7, ncol=1 + len(groups) // 16, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes[0][0].legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def _finite(sd) -> float:
    """A spread to draw: 0 where there is none (one seed: NaN, or JSON null)."""
    return sd if isinstance(sd, (int, float)) and sd == sd else 0.0


def pareto_front(points: list[tuple[float, float]], higher: bool = False) -> list[tuple[float, float]]:
    """The (cost, value) points no other point beats at the same or lower cost: value falls with
    cost (rises, where higher is better)."""
    sign = -1.0 if higher else 1.0
    front: list[tuple[float, float]] = []
    for c, v in sorted(points, key=lambda p: (p[0], sign * p[1])):
        if not front or sign * v < sign * front[-1][1]:
            front.append((c, v))
    return front
