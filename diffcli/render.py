"""Rich tables for the terminal. No JAX here: rendering takes plain rows."""

from __future__ import annotations

import sys

from rich import box
from rich.console import Console
from rich.table import Table

# Piped or logged output (CI, `| tee`) gets wide lines instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _f(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}f}"


def bench_table(rows, floor, title: str) -> Table:
    """Rows sorted by NFE; mean ± sd over seeds; the best CD in bold; the data floor last."""
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    t.add_column("sampler", no_wrap=True)
    for col in ("NFE", "CD", "MMD²", "ms/call", "ms/NFE"):
        t.add_column(col, justify="right", no_wrap=True)
    best = min((r.cd for r in rows), default=None)
    for r in rows:
        name = r.name
        nfe = f"{r.nfe:.0f}" if r.nfe_min == r.nfe_max else f"{r.nfe:.1f}"
        t.add_row(name, nfe, f"{_f(r.cd)}±{_f(r.cd_sd)}", f"{r.mmd2:.5f}±{r.mmd2_sd:.5f}",
                  f"{r.ms_per_call:.1f}", f"{r.ms_per_nfe:.2f}", style="bold green" if r.cd == best else None)
    t.add_section()
    t.add_row("data floor", "", f"{_f(floor.cd)}±{_f(floor.cd_sd)}", f"{floor.mmd2:.5f}±{floor.mmd2_sd:.5f}", "", "",
              style="dim")
    return t


def kv_table(title: str, items: dict) -> Table:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    for k, v in items.items():
        t.add_row(k, v if isinstance(v, str) else (f"{v:.5g}" if isinstance(v, float) else str(v)))
    return t
