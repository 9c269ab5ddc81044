"""Typed configuration: frozen dataclasses mirror the TOML sections.

An unknown section or key, or a value of the wrong type, is a DiffcliError naming it.
The resolved configuration is written into every run directory (config.toml).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from diffcli.errors import DiffcliError


@dataclass(frozen=True)
class DataConfig:
    name: str = "cat"  # a registered data set, or a path to a .npy/.csv file
    noise: float | None = None  # None: the data set's own default
    path: str = ""  # for name = "file"
    mean: list[float] | None = None  # for name = "gaussian": its mean (None: the data set's default)
    cov: list[list[float]] | None = None  # for name = "gaussian": its covariance, rows (None: default)


@dataclass(frozen=True)
class ModelConfig:
    process: str = "rf"
    source: str = "gaussian"  # prior at t = 1 for processes that take one (rf, bridge)
    prediction: str = ""  # what the network predicts: eps | score | x0 | velocity; "" = the process's own
    beta_min: float = 0.1  # vpsde: β(0); ddpm: T·β_1
    beta_max: float = 20.0  # vpsde: β(1); ddpm: T·β_T
    timesteps: int = 1000  # ddpm: the chain's length T
    sigma_min: float = 0.01  # vesde: σ(0)
    sigma_max: float = 10.0  # vesde: σ(1), the prior's standard deviation
    bridge_sigma: float = 0.387  # bridge: noise scale of x_t = (1−t)x0 + t·x1 + s·sqrt(t(1−t))·ε


@dataclass(frozen=True)
class NetworkConfig:
    width: int = 256
    depth: int = 3
    n_freqs: int = 16  # time features sin/cos(t·2^k), k = 0 … n_freqs−1
    activation: str = "gelu"
    residual: bool = True


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 12000
    batch: int = 2048
    lr: float = 3e-3
    schedule: str = "cosine"  # constant | cosine (with linear warm-up)
    warmup: int = 200
    final_lr: float = 0.0  # cosine decays to this
    clip: float = 0.0  # global gradient-norm clip; 0 = off
    ema: float = 0.0  # EMA decay of the weights; 0 = off (sampling then uses the raw weights)
    seed: int = 0
    chunk: int = 250  # training steps fused into one compiled lax.scan call
    checkpoint_every: int = 1000  # steps between checkpoints (rounded up to whole chunks); 0 = only at the end
    keep: int = 3  # checkpoints kept in checkpoints/ besides the latest


@dataclass(frozen=True)
class SampleConfig:
    grid: str = "power"  # time grid of fixed-step solvers: uniform | power
    grid_power: float = 1.5  # for grid = power: t_i = t0 + (t1 − t0)·(1 − i/N)^p, denser near data
    n: int = 2000
    use_ema: bool = True


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)


def _type_ok(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_type_ok(v, typing.get_args(tp)[0]) for v in value)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def _type_name(tp: Any) -> str:
    return str(tp).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _build_section(cls: type, values: dict[str, Any], section: str):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    out = {}
    for k, v in values.items():
        if k not in names:
            raise DiffcliError(f"unknown config key '{section}.{k}'; accepted in [{section}]: {', '.join(sorted(names))}")
        if not _type_ok(v, hints[k]):
            raise DiffcliError(f"config key '{section}.{k}' must be {_type_name(hints[k])}, got {type(v).__name__} {v!r}")
        out[k] = float(v) if hints[k] in (float, float | None) and isinstance(v, int) else v
    return cls(**out)


def from_dict(d: dict[str, Any], base: Config | None = None) -> Config:
    """Merge a nested dict {section: {key: value}} onto base (default: the defaults)."""
    base = base or Config()
    sections = {f.name: f for f in fields(Config)}
    updated = {}
    for sec, vals in d.items():
        if sec not in sections:
            raise DiffcliError(f"unknown config section [{sec}]; accepted: {', '.join(sections)}")
        if not isinstance(vals, dict):
            raise DiffcliError(f"config section [{sec}] must be a table of keys")
        cur = dataclasses.asdict(getattr(base, sec))
        cur.update(vals)
        updated[sec] = _build_section(type(getattr(base, sec)), cur, sec)
    return replace(base, **updated)


def load(path: str | Path | None, base: Config | None = None) -> Config:
    if path is None:
        return base or Config()
    p = Path(path)
    if not p.is_file():
        raise DiffcliError(f"config file {str(p)!r} does not exist")
    try:
        d = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise DiffcliError(f"config file {str(p)!r} is not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise DiffcliError(f"config file {str(p)!r} is not a text file") from None
    return from_dict(d, base)


def parse_override(text: str) -> tuple[str, str, Any]:
    """'train.lr=1e-3' -> ('train', 'lr', 0.001). The value is read as TOML, else as a string."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise DiffcliError(f"override {text!r} must look like section.key=value, e.g. train.lr=1e-3")
    lhs, rhs = text.split("=", 1)
    sec, key = lhs.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {rhs.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = rhs.strip()
    return sec, key, value


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    d: dict[str, dict[str, Any]] = {}
    for o in overrides:
        sec, key, value = parse_override(o)
        d.setdefault(sec, {})[key] = value
    return from_dict(d, cfg)


def to_toml(cfg: Config) -> str:
    lines = []
    for sec in fields(Config):
        lines.append(f"[{sec.name}]")
        for k, v in dataclasses.asdict(getattr(cfg, sec.name)).items():
            if v is None:
                continue  # TOML has no null: an absent key means "default"
            lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def _toml_char(c: str) -> str:
    """Escape for a TOML basic string: quote, backslash and every control character."""
    if c in '"\\':
        return "\\" + c
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\u{ord(c):04X}"
    return c


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + "".join(_toml_char(c) for c in v) + '"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)
