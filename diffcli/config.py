"""Typed configuration: frozen dataclasses mirror the TOML sections.

[train] and [sample] are fixed sets of keys. [data], [model] and [network] each choose a registry
entry (`name`, or `process` for the model) and hold that entry's own options beside it:

    [model]
    process = "vesde"
    sigma_max = 20.0        # an option of vesde: its factory's keyword parameter

Their options are checked against the chosen entry when the run is built (training/setup.py):
an option the entry does not take is an error naming those it does. The resolved configuration,
every option spelt out, is written into every run directory (config.toml).
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from diffcli.errors import DiffcliError
from diffcli.registry import coerce


@dataclass(frozen=True)
class Choice:
    """A registry entry by name and the options given for it; `cfg.network.width` reads an option."""

    selector: ClassVar[str] = "name"  # the TOML key that names the entry
    kept: ClassVar[tuple[str, ...]] = ()  # options of every entry: naming another entry keeps them

    options: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_") or key not in self.__dict__.get("options", {}):
            raise AttributeError(key)
        return self.options[key]

    @property
    def entry(self) -> str:
        return getattr(self, self.selector)


@dataclass(frozen=True)
class DataConfig(Choice):
    name: str = "cat"  # a registered data set, or a path to a .npy/.csv file


@dataclass(frozen=True)
class ModelConfig(Choice):
    selector: ClassVar[str] = "process"
    kept: ClassVar[tuple[str, ...]] = ("conditional", "label_dropout")  # conditioning.py
    process: str = "rf"  # a registered process: rf, vpsde, vesde, ddpm, bridge, …


@dataclass(frozen=True)
class NetworkConfig(Choice):
    name: str = "mlp"  # a registered network: mlp, unet


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 12000
    batch: int = 2048
    lr: float = 3e-3
    schedule: str = "cosine"  # constant | cosine (with linear warm-up)
    warmup: int | None = None  # linear warm-up steps; None: min(200, steps // 10)
    final_lr: float = 0.0  # cosine decays to this
    clip: float = 0.0  # global gradient-norm clip; 0 = off
    ema: float = 0.0  # EMA decay of the weights; 0 = off (sampling then uses the raw weights)
    seed: int = 0
    chunk: int = 250  # training steps fused into one compiled lax.scan call
    checkpoint_every: int = 1000  # steps between checkpoints (rounded up to whole chunks); 0 = only at the end
    keep: int = 3  # checkpoints kept in checkpoints/ besides the latest
    pairs: str = ""  # (source, data) pairs to train on, a file in the run (diffcli reflow); "": fresh draws
    distill: bool = False  # train at t1 only, on the pairs: the one-step map (diffcli reflow --distill)


def warmup_steps(t: TrainConfig) -> int:
    """The warm-up that train.warmup asks for (its default: min(200, a tenth of the steps))."""
    return min(200, t.steps // 10) if t.warmup is None else t.warmup


@dataclass(frozen=True)
class SampleConfig:
    grid: str = "power"  # time grid of fixed-step solvers: uniform | power | edm | logsnr | fitted
    grid_power: float = 1.5  # for grid = power: t_i = t0 + (t1 − t0)·(1 − i/N)^p, denser near data
    grid_rho: float = 7.0  # for grid = edm: Karras et al.'s ρ
    n: int = 2000
    use_ema: bool = True


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)


def _build_section(cls: type, values: dict[str, Any], section: str):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    out = {}
    for k, v in values.items():
        if k not in names:
            raise DiffcliError(f"unknown config key '{section}.{k}'; accepted in [{section}]: {', '.join(sorted(names))}")
        out[k] = coerce(v, hints[k], f"config key '{section}.{k}'")
    return cls(**out)


def _merge_choice(cur: Choice, vals: dict[str, Any], section: str) -> Choice:
    """Options follow their entry: naming another entry drops the options given for the old one
    (unless given again in the same layer, or kept by every entry: the model's conditioning); the
    entry checks its options when the run is built."""
    vals = dict(vals)
    sel = cur.selector
    name = vals.pop(sel, cur.entry)
    if not isinstance(name, str) or not name:
        raise DiffcliError(f"config key '{section}.{sel}' must be a non-empty string, got {name!r}")
    if "options" in vals:
        raise DiffcliError(f"config key '{section}.options' is not a key; give the options directly in [{section}]")
    old = dict(cur.options) if name == cur.entry else {k: v for k, v in cur.options.items() if k in cur.kept}
    options = old | vals
    return type(cur)(**{sel: name, "options": options})


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
        cur = getattr(base, sec)
        if isinstance(cur, Choice):
            updated[sec] = _merge_choice(cur, vals, sec)
        else:
            updated[sec] = _build_section(type(cur), dataclasses.asdict(cur) | vals, sec)
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


def parse_value(text: str) -> Any:
    """A command-line value read as TOML ('1e-3' -> 0.001, 'true' -> True, '[1, 2]' -> a list),
    else as a plain string ('moons', '/tmp/x y.npy')."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def parse_override(text: str) -> tuple[str, str, Any]:
    """'train.lr=1e-3' -> ('train', 'lr', 0.001). The value is read as TOML, else as a string."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise DiffcliError(f"override {text!r} must look like section.key=value, e.g. train.lr=1e-3")
    lhs, rhs = text.split("=", 1)
    sec, key = lhs.strip().split(".", 1)
    return sec, key, parse_value(rhs)


def overrides(texts: list[str]) -> dict[str, dict[str, Any]]:
    """--set texts as one layer {section: {key: value}} (a later one wins)."""
    d: dict[str, dict[str, Any]] = {}
    for o in texts:
        sec, key, value = parse_override(o)
        d.setdefault(sec, {})[key] = value
    return d


def apply_overrides(cfg: Config, texts: list[str]) -> Config:
    return from_dict(overrides(texts), cfg)


def section_items(cfg: Config, sec: str) -> dict[str, Any]:
    """A section's keys as written to TOML: the selector first, then the options, for a choice."""
    s = getattr(cfg, sec)
    if isinstance(s, Choice):
        return {s.selector: s.entry, **s.options}
    return dataclasses.asdict(s)


def to_toml(cfg: Config) -> str:
    lines = []
    for sec in fields(Config):
        lines.append(f"[{sec.name}]")
        for k, v in section_items(cfg, sec.name).items():
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
        return repr(v) if v == v and abs(v) != float("inf") else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)
