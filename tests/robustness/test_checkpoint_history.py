"""Periodic checkpoints every train.checkpoint_every steps; the newest train.keep are kept."""

from __future__ import annotations

import json
from dataclasses import replace

from diffcli import config as C
from diffcli.runs import write_text
from diffcli.training import checkpoint
from diffcli.training.loop import train
from diffcli.training.setup import build


def test_every_k_steps_keep_last_m(tiny_cfg, tmp_path):
    cfg = replace(tiny_cfg, train=replace(tiny_cfg.train, steps=100, chunk=10, checkpoint_every=20, keep=2))
    setup = build(cfg)
    write_text(tmp_path / "config.toml", C.to_toml(cfg))
    state, _ = train(setup, tmp_path)
    hist = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert hist == ["step-00000080.safetensors", "step-00000100.safetensors"]
    assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] == 100
    older = tmp_path / "older"
    older.mkdir()
    (older / "checkpoint.safetensors").write_bytes((tmp_path / "checkpoints" / hist[0]).read_bytes())
    assert int(checkpoint.load(older, setup.init_state()).step) == 80
