"""Runs written by diffcli 0.1 still load: its config.toml spelt out every process's options in
[model] (and data.path = "" in [data]), which now belong to their own process only."""

from __future__ import annotations

import pytest

from cases import process_cases
from diffcli import config as C
from diffcli.training.restore import legacy_config
from diffcli.training.setup import resolve

# What 0.1 wrote into every run's [model] and [data], besides the chosen process and data name.
V01_MODEL = {"source": "gaussian", "prediction": "", "beta_min": 0.1, "beta_max": 20.0, "timesteps": 1000,
             "sigma_min": 0.01, "sigma_max": 10.0, "bridge_sigma": 0.387}


@pytest.mark.parametrize("case", process_cases(), ids=[c[0] for c in process_cases()])
def test_a_v01_config_of_every_process_loads(case, tmp_path):
    _, name, opts = case
    for prediction in ("", "velocity" if name == "rf" else "x0" if name == "bridge" else ""):
        model = {"process": name, **V01_MODEL, **opts, "prediction": prediction}
        text = C.to_toml(C.from_dict({"data": {"name": "cat", "path": ""}, "model": model}))
        (tmp_path / "config.toml").write_text(text)
        cfg = resolve(legacy_config(C.load(tmp_path / "config.toml")))
        assert cfg.model.process == name and cfg.data.options == {}
        assert opts == {k: cfg.model.options[k] for k in opts}


def test_a_v01_option_that_differs_from_its_old_default_is_still_an_error(tmp_path):
    (tmp_path / "config.toml").write_text('[model]\nprocess = "rf"\nsigma_max = 20.0\n')
    with pytest.raises(Exception, match="model 'rf' takes no option model.sigma_max"):
        resolve(legacy_config(C.load(tmp_path / "config.toml")))
