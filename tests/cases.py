"""Test cases drawn from the registries, so a new entry is tested without editing a test."""

from __future__ import annotations


def process_cases(need: str | None = None) -> list[tuple[str, str, dict]]:
    """(id, name, options) for every registered process at its defaults and, where it takes a
    `source`, under every registered source; with `need`, only those with that capability."""
    from diffcli.processes import PROCESSES, SOURCES, get_process
    from diffcli.registry import options_of

    out = []
    for name in PROCESSES.names():
        variants = [{}]
        if "source" in options_of(PROCESSES.get(name)):
            variants = [{"source": s} for s in SOURCES.names()]
        for opts in variants:
            if need is None or need in get_process(name, **opts).capabilities:
                out.append(("-".join([name, *opts.values()]), name, opts))
    return out


def ode_solvers() -> list[str]:
    """The registered samplers of the probability-flow ODE through diffrax (sampling/ode.py)."""
    from diffcli.sampling.ode import OdeSolver
    from diffcli.sampling.registry import SAMPLERS

    return [n for n in SAMPLERS.names() if isinstance(SAMPLERS.get(n), OdeSolver)]


def order_of(solver: str) -> int | None:
    from diffcli.sampling.registry import SAMPLERS

    return SAMPLERS.get(solver).order


# (a, fixed step counts) for the linear field v = a·x, by the solver's order: every error then
# lies between ~1e-2 and ~1e-5 (relative), asymptotic and far above float32 roundoff. Orders
# above 5 fall below float32's resolution within three steps; they get the last entry.
STEPS_BY_ORDER = {1: (1.0, [10, 20, 40]), 2: (1.0, [5, 10, 20]), 3: (2.0, [4, 8, 16]), 4: (4.0, [3, 5, 10]),
                  5: (4.0, [3, 5, 10])}
FLOAT32_MAX_ORDER = 5


def float32_steps(order: int) -> tuple[float, list[int]]:
    return STEPS_BY_ORDER[min(order, FLOAT32_MAX_ORDER)]
