"""`diffcli export`: a trained network as a weights-only safetensors file for other frameworks.

Tensor names and layouts are PyTorch's: `x_in.weight` (out, in) for a linear layer's kernel
(in, out), `<conv>.weight` (out, in, kh, kw) for a convolution's (kh, kw, in, out), `.bias` as is,
a GroupNorm's scale as `.weight`; list members are numbered (`hidden.0.weight`). No optimiser
state, no second copy of the weights: the exported set is the one sampling uses (the EMA where
the run kept one, unless raw). The metadata (safetensors string → string) states what a short
PyTorch module needs to reproduce the field:

  format          "diffcli-export-1"
  network         the registry name, and `network_options` (JSON) its options
  activation      the activation's formula, approximation included ("gelu-tanh" is jax.nn.gelu's
                  default tanh approximation: PyTorch's nn.GELU(approximate="tanh"))
  time_features   how t enters: [sin(t·2^k), cos(t·2^k)] for k < n_freqs, raw t
  forward         the mlp's forward pass, written out
  data_shape      one point's shape (JSON), the network's input and output
  process         the process (registry name) and `process_options` (JSON)
  prediction      what the output is (velocity, eps, score, x0), and `output` how it is scaled
  time            t = 0 is data, t = 1 is the prior; generation integrates from t1 to t0
  interval        [t0, t1] (JSON)
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np

from diffcli.runs import write_bytes
from diffcli.training.checkpoint import _key_name

FORMAT = "diffcli-export-1"
ACTIVATION_FORMULAS = {
    "gelu": "gelu-tanh: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))",
    "silu": "silu: x·sigmoid(x)",
    "relu": "relu: max(x, 0)",
    "tanh": "tanh",
    "softplus": "softplus: log(1 + exp(x))",
}
MLP_FORWARD = ("h = act(time_in(emb(t))) + act(x_in(flatten(x))); for each hidden layer k: "
               "h = h + act(hidden.k(h)) if residual else act(hidden.k(h)); out = reshape(out(h), x.shape)")


def torch_tensors(params) -> dict[str, np.ndarray]:
    """nnx parameters as PyTorch-named, PyTorch-laid-out float32 arrays."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        parts = [p for p in _key_name(path).split("/") if p != "value"]
        *module, kind = parts
        a = np.asarray(leaf, np.float32)
        if kind == "kernel":
            kind = "weight"
            a = a.T if a.ndim == 2 else np.transpose(a, (3, 2, 0, 1))  # (in, out) / (kh, kw, in, out)
        elif kind == "scale":
            kind = "weight"
        out[".".join([*module, kind])] = np.ascontiguousarray(a)
    return out


def export_run(run, out: str | Path | None = None, use_ema: bool | None = None) -> tuple[Path, dict[str, str]]:
    """Write the run's network to `out` (default: <run>/export.safetensors); returns (path, metadata)."""
    from safetensors.numpy import save

    from diffcli.sampling.api import weights, which_weights
    from diffcli.training.restore import load_run

    run_dir, setup, state = load_run(run)
    net, process = setup.cfg.network, setup.process
    n_opts = dict(net.options)
    meta = {
        "format": FORMAT,
        "network": net.name,
        "network_options": json.dumps(n_opts),
        "activation": ACTIVATION_FORMULAS.get(n_opts.get("activation", ""), str(n_opts.get("activation", ""))),
        "time_features": "emb(t) = [sin(t·2^k) for k < n_freqs] ++ [cos(t·2^k) for k < n_freqs], raw t",
        "data_shape": json.dumps(list(setup.dataset.shape)),
        "process": setup.cfg.model.process,
        "process_options": json.dumps(setup.cfg.model.options),
        "prediction": process.prediction,
        "output": getattr(process, "output_scaling", "") or f"the network's output is the {process.prediction}",
        "time": "t = 0 is data, t = 1 is the prior; generation integrates from t1 down to t0",
        "interval": json.dumps([float(process.t0), float(process.t1)]),
        "weights": which_weights(setup, use_ema),
    }
    if net.name == "mlp":
        meta["forward"] = MLP_FORWARD if not setup.n_classes else MLP_FORWARD.replace(
            "act(time_in(emb(t)))", "act(time_in(emb(t)) + label.embed.embedding[y])")
    if setup.n_classes:
        meta["labels"] = (f"class-conditional: labels y in 0 … {setup.n_classes - 1}, {setup.n_classes} = the null label "
                          "(unconditional); guidance w: (1 + w)·net(t, x, y) − w·net(t, x, null)")
    path = Path(out) if out is not None else run_dir / "export.safetensors"
    write_bytes(path, save(torch_tensors(weights(setup, state, use_ema)), metadata=meta))
    return path, meta
