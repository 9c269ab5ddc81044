"""Rich tables for the terminal. No JAX here: rendering takes plain rows."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from rich import box
from rich.console import Console
from rich.table import Table

# Piped or logged output (CI, `| tee`) gets wide lines instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def bench_table(rows, floor, title: str) -> Table:
    """Rows sorted by NFE; each selected metric as mean ± sd over seeds; the best value of the
    first metric in bold; the data floor last."""
    from diffcli.metrics import METRICS

    names = list(floor.mean)
    metrics = [METRICS.get(m) for m in names]
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    t.add_column("sampler", no_wrap=True)
    for col in ["NFE", *(m.label for m in metrics), "ms/call", "ms/NFE"]:
        t.add_column(col, justify="right", no_wrap=True)
    best = min((r.scores[names[0]] for r in rows), key=metrics[0].key, default=None) if metrics else None
    for r in rows:
        nfe = f"{r.nfe:.0f}" if r.nfe_min == r.nfe_max else f"{r.nfe:.1f}"
        vals = [f"{m.format(r.scores[k])}±{_sd(m, r.sds[k])}" for k, m in zip(names, metrics)]
        t.add_row(r.name, nfe, *vals, f"{r.ms_per_call:.1f}", f"{r.ms_per_nfe:.2f}",
                  style="bold green" if r.scores[names[0]] == best else None)
    t.add_section()
    t.add_row("data floor", "", *(f"{m.format(floor.mean[k])}±{_sd(m, floor.sd[k])}" for k, m in zip(names, metrics)),
              "", "", style="dim")
    return t


def best_table(best: list[dict], metric: str, floor) -> Table:
    """bench's closing answer: the best setting within each NFE budget (bench.best_at_budgets)."""
    from diffcli.metrics import METRICS

    m = METRICS.get(metric)
    t = Table(title=f"best at each budget · {m.label} · plateau = the best of any setting", title_justify="left",
              box=box.SIMPLE_HEAD)
    for col, right in (("NFE ≤", True), ("sampler", False), ("NFE", True), (m.label, True), ("above plateau", True)):
        t.add_column(col, justify="right" if right else "left", no_wrap=True)
    for b in best:
        t.add_row(str(b["budget"]), b["name"], f"{b['nfe']:.0f}", f"{m.format(b[metric])}±{_sd(m, b[metric + '_sd'])}",
                  f"{100 * b['above_plateau']:+.1f}%")
    t.add_section()
    t.add_row("", "data floor", "", f"{m.format(floor.mean[metric])}±{_sd(m, floor.sd[metric])}", "", style="dim")
    return t


def fits_table(fits: list[dict], title: str) -> Table:
    """Fitted grids: solver, steps, NFE, the times, and the objective against the default grid's."""
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("solver", "steps", "NFE", "times (t1 → t0)", "objective", "fitted", "default grid", "s"):
        t.add_column(col, justify="left" if col in ("solver", "times (t1 → t0)", "objective") else "right",
                     max_width=44 if col.startswith("times") else None)
    for f in fits:
        name = f["solver"] + (f" {f['variant']}" if f.get("variant") else "")
        times = " ".join(f"{x:.3g}" for x in f["times"])
        t.add_row(name, str(f["steps"]), str(f["nfe"]), times, f.get("objective", ""), f"{f['error']:.4g}",
                  f"{f['error_default']:.4g} ({f['default_grid']})" if f.get("default_grid") else "—",
                  f"{f['seconds']:.1f}")
    return t


def _sd(metric, sd: float) -> str:
    """A sample standard deviation, or "—" where one seed gives none."""
    return "—" if sd != sd else metric.format(sd)


def scores_items(scores: dict, floor) -> dict[str, str]:
    """'CD': '0.0517   (data floor 0.0480 ± 0.0007)' for each scored metric."""
    from diffcli.metrics import METRICS

    out = {}
    for k, v in scores.items():
        m = METRICS.get(k)
        out[m.label] = f"{m.format(v)}   (data floor {m.format(floor.mean[k])} ± {_sd(m, floor.sd[k])})"
    return out


def kv_table(title: str, items: dict) -> Table:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    for k, v in items.items():
        t.add_row(k, v if isinstance(v, str) else (f"{v:.5g}" if isinstance(v, float) else str(v)))
    return t


def plain_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for h in header:
        t.add_column(h)
    for r in rows:
        t.add_row(*r)
    return t


@contextlib.contextmanager
def progress(label: str, total: int, unit: str, quiet: bool = False) -> Iterator[Callable[..., None]]:
    """update(done, note="") as the work goes: a rich bar on a terminal; one plain line per update
    on stderr otherwise (CI, `| tee`, a batch job), with a count and an ETA; nothing when quiet."""
    if quiet:
        yield lambda done, note="": None
        return
    if console.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                      TimeRemainingColumn(), console=console, transient=label != "train") as bar:
            task = bar.add_task(label, total=total, note="")
            yield lambda done, note="": bar.update(task, completed=done, note=note)
        return
    start: list[float] = []  # (time, done) of the first update: the rate excludes what came before

    def update(done: int, note: str = "") -> None:
        now = time.perf_counter()
        if not start:
            start.extend([now, done])
            eta = ""
        else:
            rate = (done - start[1]) / max(now - start[0], 1e-9)
            eta = f", ETA {_duration((total - done) / rate)}" if rate > 0 and done < total else ""
        err_console.print(f"{label} {done}/{total} {unit}" + (f": {note}" if note else "") + eta, highlight=False,
                          soft_wrap=True)

    yield update


def _duration(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"
