"""A result's file name carries everything that tells it apart, so no result overwrites another."""

from __future__ import annotations

import json

from diffcli.sampling.api import sample_run
from diffcli.sampling.plan import make_plan


def test_n_weights_and_controller_are_in_the_name(tiny_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)  # trained with an EMA, so --raw is a different result
    plan = make_plan("euler", steps=3)
    paths = {
        sample_run(run, plan, 64, 0)[3],
        sample_run(run, plan, 32, 0)[3],
        sample_run(run, plan, 64, 0, use_ema=False)[3],
        sample_run(run, make_plan("tsit5", rtol=1e-2), 32, 0)[3],
        sample_run(run, make_plan("tsit5", rtol=1e-2, pcoeff=0.3), 32, 0)[3],
    }
    assert len(paths) == 5, sorted(p.name for p in paths)
    raw = [p for p in paths if "-raw-" in p.name]
    assert len(raw) == 1 and json.loads(raw[0].with_suffix(".json").read_text())["weights"] == "raw"
    assert any("pcoeff_0.3" in p.name for p in paths)
