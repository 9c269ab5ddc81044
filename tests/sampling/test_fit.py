"""Fitted time grids (sampling/fit.py) and NFE budgets: the dynamic programme against brute force,
the budget arithmetic for every sampler, the grids file, and a fit on the Gaussian oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from diffcli.bench import BenchRow, best_at_budgets
from diffcli.errors import DiffcliError
from diffcli.sampling import fit as F
from diffcli.sampling.plan import make_plan, steps_for_nfe
from diffcli.sampling.registry import SAMPLERS


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_best_path_is_the_cheapest_path_of_k_jumps(k):
    rng = np.random.default_rng(k)
    m = 8
    cost = np.triu(rng.uniform(0.1, 1.0, (m, m)), 1)
    cost[cost == 0] = np.inf
    path = F.best_path(cost, k)
    assert path[0] == 0 and path[-1] == m - 1 and len(path) == k + 1 and all(np.diff(path) > 0)
    total = sum(cost[a, b] for a, b in zip(path, path[1:]))
    brute = min(sum(cost[a, b] for a, b in zip((0, *mid), (*mid, m - 1)))
                for mid in itertools.combinations(range(1, m - 1), k - 1))
    assert total == pytest.approx(brute)


@pytest.mark.parametrize("solver", SAMPLERS.names())
def test_steps_for_nfe_is_the_most_steps_within_the_budget(solver):
    spec = SAMPLERS.get(solver)
    plan = make_plan(solver, steps=1)
    one = spec.nfe(plan, 1)
    for budget in (one, one + 1, 3 * one + 2, 20):
        if budget < one:
            continue
        s = steps_for_nfe(solver, budget)
        assert spec.nfe(plan, s) <= budget < spec.nfe(plan, s + 1)
    if one > 1:
        with pytest.raises(DiffcliError, match=f"NFE {one - 1} is too few for {solver}"):
            steps_for_nfe(solver, one - 1)


def _row(name, nfe, cd, nfe_max=None):
    return BenchRow(label=name, name=name, solver=name.split()[0], steps=None, tol=None, nfe=nfe, nfe_min=nfe,
                    nfe_max=nfe_max or nfe, scores={"cd": cd}, sds={"cd": 0.0}, per_seed={"cd": [cd]},
                    ms_per_call=1.0, ms_per_nfe=1.0, compile_s=0.0)


def test_best_at_each_budget():
    rows = [_row("a", 4, 0.08), _row("b", 6, 0.06), _row("c", 8, 0.07), _row("d", 16, 0.05),
            _row("tsit5", 10, 0.04, nfe_max=25)]  # an adaptive solve that used up to 25 NFE on some seed
    best = {b["budget"]: b for b in best_at_budgets(rows, "cd", (2, 4, 8, 16, 30))}
    assert 2 not in best  # nothing runs within 2 NFE
    assert [best[b]["name"] for b in (4, 8, 16, 30)] == ["a", "b", "d", "tsit5"]
    assert best[30]["above_plateau"] == 0 and best[16]["above_plateau"] == pytest.approx(0.25)


def test_grids_file_keeps_other_fits_and_says_what_is_missing(tmp_path):
    def fit(solver, steps, t):
        return F.GridFit(solver, "", {}, steps, steps, tuple(np.linspace(1, 0, steps + 1) ** t), "chamfer", 0.1,
                         "dp", 0.2, 0.3, "power^1.5", 8, 10, 1, 0.0)

    class P:
        t1, t0 = 1.0, 0.0

    F.save_fits(tmp_path, [fit("euler", 2, 1.0), fit("euler", 3, 1.0)], {})
    F.save_fits(tmp_path, [fit("euler", 3, 2.0), fit("heun", 3, 1.0)], {})  # a refit replaces only its own
    got = {(r["solver"], r["steps"]): r["times"] for r in F.read_fits(tmp_path)}
    assert set(got) == {("euler", 2), ("euler", 3), ("heun", 3)}
    assert got[("euler", 3)] == list(np.linspace(1, 0, 4) ** 2)
    plan = make_plan("euler", steps=3, grid="fitted")
    assert F.fitted_times(tmp_path, plan, P) == tuple(got[("euler", 3)])
    with pytest.raises(DiffcliError, match=r"no fitted grid for euler at 5 steps .*fitted at 2, 3 steps.*--nfe 5"):
        F.fitted_times(tmp_path, make_plan("euler", steps=5, grid="fitted"), P)
    (tmp_path / F.GRIDS_FILE).write_text("{not json")
    with pytest.raises(DiffcliError, match="not a grids file"):
        F.read_fits(tmp_path)
