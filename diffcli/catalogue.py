"""`diffcli list`: every registry's entries, what they need and what options they take.

Plain rows (lists of strings) for the renderer, built from the registries themselves, so a new
entry shows up here without any edit.
"""

from __future__ import annotations

import dataclasses
import inspect

from diffcli.registry import summary

KINDS = ("models", "solvers", "metrics", "data", "networks", "grids", "couplings", "sources")


def _options(registry, name: str) -> str:
    return ", ".join(k if o.required else f"{k}={o.default!r}" for k, o in registry.options(name).items()) or "—"


def rows(kind: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) for one kind of registry entry."""
    if kind == "models":
        from diffcli.processes import PROCESSES

        out = []
        for n in PROCESSES.names():
            entry = PROCESSES.get(n)
            p = entry()
            out.append([n, ", ".join(sorted(p.capabilities)), f"[{p.t0:g}, {p.t1:g}]", _options(PROCESSES, n),
                        summary(entry)])
        return ["model", "capabilities", "interval", "options (defaults)", "what"], out
    if kind == "solvers":
        from diffcli.sampling.plan import make_plan
        from diffcli.sampling.registry import SAMPLERS, flag

        out = []
        for n in SAMPLERS.names():
            s = SAMPLERS.get(n)
            plan = make_plan(n, steps=1)
            first, per = s.nfe(plan, 0), s.nfe(plan, 1) - s.nfe(plan, 0)
            opts = ", ".join(f"{flag(f.name)} {f.default!r}" for f in dataclasses.fields(s.Options)) or "—"
            out.append([n, ", ".join(sorted(s.needs)), f"{per}/step" + (f" + {first}" if first else ""),
                        "—" if s.order is None else str(s.order), "steps or tolerances" if s.adaptive else "steps",
                        str(make_plan(n).steps), opts, s.summary])
        return ["solver", "needs", "NFE", "order", "takes", "default steps", "options", "what"], out
    if kind == "metrics":
        from diffcli.metrics import DEFAULT_METRICS, METRICS

        return ["metric", "label", "default", "what"], [
            [n, METRICS.get(n).label, "yes" if n in DEFAULT_METRICS else "", METRICS.get(n).summary]
            for n in METRICS.names()]
    if kind == "data":
        from diffcli.data import DATASETS

        return ["data set", "options (defaults)", "what"], [
            [n, _options(DATASETS, n), summary(DATASETS.get(n))] for n in DATASETS.names()]
    if kind == "networks":
        from diffcli.nn.base import NETWORKS

        return ["network", "options (defaults)", "what"], [
            [n, _options(NETWORKS, n), summary(NETWORKS.get(n))] for n in NETWORKS.names()]
    if kind == "grids":
        from diffcli.sampling.grids import GRIDS

        return ["grid", "what"], [[n, inspect.getdoc(GRIDS.get(n)) or ""] for n in GRIDS.names()]
    if kind == "couplings":
        from diffcli.couplings import COUPLINGS

        return ["coupling", "uses coupling_epsilon", "what"], [
            [n, "yes" if COUPLINGS.get(n).uses_epsilon else "", COUPLINGS.get(n).summary] for n in COUPLINGS.names()]
    if kind == "sources":
        from diffcli.data import DATASETS
        from diffcli.processes.sources import SOURCES

        own = [[n, "yes" if SOURCES.get(n).standard_normal else "", "a registered source"] for n in SOURCES.names()]
        return ["source", "N(0, I)", "what"], own + [
            [n, "", "the data set, at its default options (no density)"]
            for n in DATASETS.names() if n not in SOURCES and n != "file"]
    from diffcli.errors import choice_error

    raise choice_error("kind", kind, KINDS)
