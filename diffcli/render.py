"""Rich tables for the terminal. No JAX here: rendering takes plain rows."""

from __future__ import annotations

import sys

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
    best = min((r.scores[names[0]] for r in rows), default=None)
    for r in rows:
        nfe = f"{r.nfe:.0f}" if r.nfe_min == r.nfe_max else f"{r.nfe:.1f}"
        vals = [f"{m.format(r.scores[k])}±{m.format(r.sds[k])}" for k, m in zip(names, metrics)]
        t.add_row(r.name, nfe, *vals, f"{r.ms_per_call:.1f}", f"{r.ms_per_nfe:.2f}",
                  style="bold green" if r.scores[names[0]] == best else None)
    t.add_section()
    t.add_row("data floor", "", *(f"{m.format(floor.mean[k])}±{m.format(floor.sd[k])}" for k, m in zip(names, metrics)),
              "", "", style="dim")
    return t


def scores_items(scores: dict, floor) -> dict[str, str]:
    """'CD': '0.0517   (data floor 0.0480 ± 0.0007)' for each scored metric."""
    from diffcli.metrics import METRICS

    out = {}
    for k, v in scores.items():
        m = METRICS.get(k)
        out[m.label] = f"{m.format(v)}   (data floor {m.format(floor.mean[k])} ± {m.format(floor.sd[k])})"
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
