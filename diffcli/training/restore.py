"""Open a trained run: its config, the pieces built from it, and its checkpoint."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from diffcli import config as C
from diffcli.data.base import DATASETS, entry_name
from diffcli.processes import PROCESSES
from diffcli.runs import open_run
from diffcli.training import checkpoint
from diffcli.training.setup import Setup, build
from diffcli.training.state import TrainState

# diffcli 0.1 wrote every process's options into every run's [model] (and data.path = "" into
# every [data]); a run of that version is read by dropping those it wrote at their old defaults
# where its own process or data set does not take them, and a `prediction` that names what the
# process predicts anyway (rf: velocity, bridge: x0). Anything else still has to be accepted.
LEGACY_DEFAULTS = {
    "model": {"source": "gaussian", "prediction": "", "beta_min": 0.1, "beta_max": 20.0, "timesteps": 1000,
              "sigma_min": 0.01, "sigma_max": 10.0, "bridge_sigma": 0.387},
    "data": {"path": ""},
}


def legacy_config(cfg: C.Config) -> C.Config:
    def keep(sec, registry, entry, implied=None):
        own = registry.options(entry)
        opts = getattr(cfg, sec).options

        def legacy(k, v):
            if k in own:
                return k == "prediction" and v == ""
            return (k in LEGACY_DEFAULTS[sec] and v == LEGACY_DEFAULTS[sec][k]) or (k == "prediction" and v == implied)

        return {k: v for k, v in opts.items() if not legacy(k, v)}

    if cfg.model.process in PROCESSES:
        model = keep("model", PROCESSES, cfg.model.process, getattr(PROCESSES.get(cfg.model.process), "prediction", None))
    else:
        model = cfg.model.options
    data_entry = entry_name(cfg.data.name)
    data = keep("data", DATASETS, data_entry) if data_entry in DATASETS else cfg.data.options
    return replace(cfg, model=replace(cfg.model, options=model), data=replace(cfg.data, options=data))


def load_run(path: str | Path) -> tuple[Path, Setup, TrainState]:
    run_dir = open_run(path)
    cfg = legacy_config(C.load(run_dir / "config.toml"))
    setup = build(cfg)
    return run_dir, setup, checkpoint.load(run_dir, setup.state_shapes())
