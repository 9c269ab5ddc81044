"""`diffcli export`: a weights-only safetensors file with PyTorch names and layouts, whose metadata
alone is enough to rebuild the field: checked by a NumPy re-implementation that reads nothing
of diffcli but that file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from safetensors import safe_open

from diffcli.export import export_run


def numpy_field(path):
    """The exported network as a NumPy function of (t (n,), x (n, *shape)), from the file alone."""
    with safe_open(str(path), "numpy") as f:
        meta, w = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    assert meta["network"] == "mlp" and meta["activation"].startswith("gelu-tanh")
    opts = json.loads(meta["network_options"])

    def act(v):
        return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))

    def linear(name, v):
        return v @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    def field(t, x):
        k = 2.0 ** np.arange(opts["n_freqs"])
        emb = np.concatenate([np.sin(t[:, None] * k), np.cos(t[:, None] * k)], -1)
        h = act(linear("time_in", emb)) + act(linear("x_in", x.reshape(len(x), -1)))
        for i in range(opts["depth"]):
            h = h + act(linear(f"hidden.{i}", h)) if opts["residual"] else act(linear(f"hidden.{i}", h))
        return linear("out", h).reshape(x.shape)

    return field, meta, w


def test_the_exported_mlp_is_the_field(tiny_run, tmp_path):
    from diffcli.sampling.api import weights

    path, _ = export_run(tiny_run.run_dir, tmp_path / "x.safetensors")
    field, meta, w = numpy_field(path)
    assert set(w) == {"time_in.weight", "time_in.bias", "x_in.weight", "x_in.bias", "hidden.0.weight", "hidden.0.bias",
                      "out.weight", "out.bias"}  # weights alone: no optimiser state, no second copy
    assert w["x_in.weight"].shape == (16, 2)  # (out, in), PyTorch's layout
    assert meta["prediction"] == "velocity" and meta["weights"] == "ema" and json.loads(meta["interval"]) == [0.0, 1.0]
    rng = np.random.default_rng(0)
    t, x = rng.uniform(size=64).astype(np.float32), rng.normal(size=(64, 2)).astype(np.float32)
    want = np.asarray(tiny_run.setup.apply(weights(tiny_run.setup, tiny_run.state))(t, x))
    np.testing.assert_allclose(field(t.astype(np.float64), x.astype(np.float64)), want, rtol=1e-4, atol=1e-5)


def test_raw_weights_and_the_command(tiny_run, tmp_path, cli, cli_env):
    import shutil

    run = tmp_path / "runs" / "r"
    shutil.copytree(tiny_run.run_dir, run)
    r = cli(["export", "runs/r", "--raw"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    with safe_open(str(run / "export.safetensors"), "numpy") as f:
        assert f.metadata()["weights"] == "raw"
        np.testing.assert_array_equal(f.get_tensor("out.bias"), np.asarray(tiny_run.state.params["out"]["bias"][...]))


@pytest.mark.parametrize("name", ["unet"])
def test_convolutions_take_pytorchs_layout(name, tmp_path):
    import jax
    from flax import nnx

    from diffcli.export import torch_tensors
    from diffcli.nn.base import NETWORKS, build_network

    if name not in NETWORKS:
        pytest.skip(f"no {name}")
    # Shapes and names are what is checked: the network is built abstractly (nnx.eval_shape; a real
    # init compiles a program per parameter shape, seconds for a U-Net) and its parameters are
    # zeros of the very shapes and dtypes its init gives.
    net = nnx.eval_shape(lambda: build_network(name, {"channels": [4, 8], "groups": 2}, (8, 8, 1), nnx.Rngs(0)))
    params = jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), nnx.split(net, nnx.Param)[1])
    t = torch_tensors(params)
    assert t["inp.weight"].shape == (4, 1, 3, 3) and t["out.weight"].shape == (1, 4, 3, 3)
    assert "down.0.norm1.weight" in t and "time1.weight" in t
