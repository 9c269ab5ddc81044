"""Typed configuration: TOML round trip, errors that name the key, --set overrides, repo configs."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from pathlib import Path

import pytest

from diffcli import config as C
from diffcli.errors import DiffcliError

REPO = Path(__file__).resolve().parents[1]


def roundtrip(cfg: C.Config) -> C.Config:
    return C.from_dict(tomllib.loads(C.to_toml(cfg)))


def _other_value(tp, default):
    """A value of type `tp` that differs from `default` (for any field, present or future)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)][0]
        return _other_value(inner, None)
    if origin is list:
        (item,) = args
        if typing.get_origin(item) is list:
            return [[1.0, 0.5], [0.5, 2.0]]
        return [_other_value(item, None), _other_value(item, None) * 2]
    if tp is bool:
        return not default
    if tp is int:
        return (default or 0) + 7
    if tp is float:
        return (default or 0.0) + 0.375
    if tp is str:
        return (default or "") + "_x"
    raise AssertionError(f"test does not know how to vary a field of type {tp}")


# [data], [model] and [network] name a registry entry and carry that entry's options
CHOICES = {
    "data": {"name": "gaussian", "mean": [1.0, 2.0], "cov": [[1.0, 0.5], [0.5, 2.0]]},
    "model": {"process": "vesde", "prediction": "score", "sigma_min": 0.02, "sigma_max": 20.5},
    "network": {"name": "mlp", "width": 33, "depth": 2, "n_freqs": 5, "activation": "silu", "residual": False},
}


def _non_default() -> dict:
    out = {}
    for sec in dataclasses.fields(C.Config):
        default = getattr(C.Config(), sec.name)
        if isinstance(default, C.Choice):
            out[sec.name] = CHOICES[sec.name]
            continue
        hints = typing.get_type_hints(type(default))
        out[sec.name] = {f.name: _other_value(hints[f.name], getattr(default, f.name))
                         for f in dataclasses.fields(default)}
    return out


NON_DEFAULT = _non_default()


def test_defaults_roundtrip():
    assert roundtrip(C.Config()) == C.Config()


def test_every_field_non_default_roundtrips():
    cfg = C.from_dict(NON_DEFAULT)
    # the dict really did change every field
    for sec in dataclasses.fields(C.Config):
        default, got = getattr(C.Config(), sec.name), getattr(cfg, sec.name)
        for f in dataclasses.fields(default):
            if f.name != getattr(default, "selector", None):  # (mlp may be the only network)
                assert getattr(got, f.name) != getattr(default, f.name), f"{sec.name}.{f.name}"
    back = roundtrip(cfg)
    assert back == cfg
    for sec in dataclasses.fields(C.Config):  # types survive too (float stays float, ...)
        for k, v in C.section_items(cfg, sec.name).items():
            assert type(C.section_items(back, sec.name)[k]) is type(v), f"{sec.name}.{k}"


def test_the_resolved_config_spells_out_every_option_and_roundtrips():
    from diffcli.training.setup import resolve

    cfg = resolve(C.from_dict(NON_DEFAULT))
    cond = {"conditional": False, "label_dropout": 0.1}  # every process's (conditioning.py)
    assert cfg.model.options == {"prediction": "score", "sigma_min": 0.02, "sigma_max": 20.5} | cond
    d = resolve(C.Config())
    assert d.model.options == {"source": "gaussian", "coupling": "independent", "coupling_block": 32,
                               "coupling_epsilon": 0.01} | cond and d.network.options["width"] == 256
    assert roundtrip(d) == d and resolve(roundtrip(d)) == d


def test_options_follow_their_entry():
    """Naming another entry drops the options of the old one; in the same layer they stay (and
    are then checked against the new entry)."""
    base = C.from_dict({"model": {"process": "vesde", "sigma_max": 20.0}})
    assert C.from_dict({"model": {"process": "vpsde"}}, base).model.options == {}
    assert C.from_dict({"model": {"sigma_min": 0.1}}, base).model.options == {"sigma_max": 20.0, "sigma_min": 0.1}
    same_layer = C.from_dict({"model": {"process": "vpsde", "sigma_max": 5.0}}, base)
    from diffcli.training.setup import resolve

    with pytest.raises(DiffcliError, match="model 'vpsde' takes no option model.sigma_max; it accepts: model.prediction"):
        resolve(same_layer)


@pytest.mark.parametrize("value", [0.1, 1e-300, 1.0, 3e-3, 1 / 3, 123456789.123, 2.0**-30])
def test_floats_roundtrip_exactly(value):
    cfg = C.from_dict({"train": {"lr": value}})
    assert roundtrip(cfg).train.lr == value


@pytest.mark.parametrize("text", ['with "quotes"', "back\\slash", "tab\there", "ünïcødé ✓", "C:\\runs\\x.csv", "'single'"])
def test_strings_roundtrip(text):
    cfg = C.from_dict({"data": {"name": "file", "path": text}})
    assert roundtrip(cfg).data.path == text


@pytest.mark.parametrize("text", ["line\nbreak", "del\x7fchar", "bell\x07"])
def test_strings_with_control_characters_roundtrip(text):
    cfg = C.from_dict({"data": {"name": "file", "path": text}})
    assert roundtrip(cfg).data.path == text


def test_none_noise_is_omitted_and_comes_back_as_the_data_sets_default():
    from diffcli.training.setup import resolve

    text = C.to_toml(resolve(C.Config()))
    assert "noise" not in text  # None: "the data set's own default", which TOML cannot spell
    assert roundtrip(C.Config()).data.options == {}


def test_to_toml_has_every_section_and_key():
    d = tomllib.loads(C.to_toml(C.from_dict(NON_DEFAULT)))
    assert d == NON_DEFAULT


def test_from_dict_merges_onto_base():
    base = C.from_dict({"train": {"steps": 5, "lr": 0.5}})
    cfg = C.from_dict({"train": {"steps": 9}}, base)
    assert cfg.train.steps == 9 and cfg.train.lr == 0.5
    assert cfg.network == C.NetworkConfig()


def test_int_is_accepted_for_float_and_stored_as_float():
    from diffcli.training.setup import resolve

    cfg = C.from_dict({"train": {"lr": 1, "clip": 2}, "data": {"noise": 0}})
    assert cfg.train.lr == 1.0 and type(cfg.train.lr) is float
    assert type(cfg.train.clip) is float
    noise = resolve(cfg).data.noise  # an entry's options are typed by the entry
    assert noise == 0.0 and type(noise) is float


# ------------------------------------------------------------------------------ errors


def _err(d) -> str:
    """The one-line error of a config dict, at parsing or, for an entry's options, at resolving."""
    from diffcli.training.setup import resolve

    with pytest.raises(DiffcliError) as e:
        resolve(C.from_dict(d))
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_unknown_section_names_it():
    msg = _err({"trian": {"steps": 3}})
    assert "trian" in msg and "train" in msg  # names the bad one and lists the good ones


def test_options_is_not_a_key():
    assert "model.options" in _err({"model": {"options": {"source": "gaussian"}}})


def test_section_that_is_not_a_table():
    assert "train" in _err({"train": 5})


@pytest.mark.parametrize("sec, key", [("train", "stepz"), ("network", "widht"), ("data", "nosie"), ("sample", "solver")])
def test_unknown_key_names_it(sec, key):
    msg = _err({sec: {key: 1}})
    assert f"{sec}.{key}" in msg


@pytest.mark.parametrize("sec, key, value", [
    ("train", "steps", "100"),
    ("train", "steps", 1.5),
    ("train", "steps", True),
    ("train", "lr", "fast"),
    ("train", "lr", False),
    ("network", "residual", 1),
    ("network", "activation", 3),
    ("data", "noise", "none"),
    ("data", "name", ["cat"]),
    ("model", "process", 3),
    ("model", "sigma_max", "big"),
    ("sample", "use_ema", "yes"),
])
def test_wrong_type_names_the_key(sec, key, value):
    msg = _err({sec: {key: value}})
    assert f"{sec}.{key}" in msg


def _write(tmp_path, text) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_load_file(tmp_path):
    cfg = C.load(_write(tmp_path, "[train]\nsteps = 7\n[network]\nwidth = 8\n"))
    assert cfg.train.steps == 7 and cfg.network.width == 8 and cfg.data == C.DataConfig()


def test_load_none_gives_defaults():
    assert C.load(None) == C.Config()


@pytest.mark.parametrize("text, words", [
    ("[train]\nsteps = \n", "not valid TOML"),
    ("[train\nsteps = 3\n", "not valid TOML"),
    ("[train]\nbogus = 3\n", "train.bogus"),
    ("[train]\nsteps = 'many'\n", "train.steps"),
    ("[bogus]\n", "bogus"),
])
def test_load_errors_are_one_line(tmp_path, text, words):
    p = _write(tmp_path, text)
    with pytest.raises(DiffcliError) as e:
        C.load(p)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(DiffcliError) as e:
        C.load(tmp_path / "nope.toml")
    assert "nope.toml" in str(e.value) and "does not exist" in str(e.value)


def test_load_binary_file(tmp_path):
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DiffcliError):
        C.load(p)


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize("text, want", [
    ("train.lr=1e-3", ("train", "lr", 1e-3)),
    ("train.steps=100", ("train", "steps", 100)),
    ("train.lr = 0.5", ("train", "lr", 0.5)),
    ("network.residual=false", ("network", "residual", False)),
    ("data.name=moons", ("data", "name", "moons")),
    ('data.name="moons"', ("data", "name", "moons")),
    ("data.path=/tmp/x y.npy", ("data", "path", "/tmp/x y.npy")),
    ("data.path=a=b.csv", ("data", "path", "a=b.csv")),
])
def test_parse_override(text, want):
    got = C.parse_override(text)
    assert got == want and type(got[2]) is type(want[2])


@pytest.mark.parametrize("text", ["trainlr=3", "train.lr", "=3", "lr=3"])
def test_malformed_override(text):
    with pytest.raises(DiffcliError) as e:
        C.parse_override(text)
    assert "section.key=value" in str(e.value)


def test_apply_overrides():
    cfg = C.apply_overrides(C.Config(), ["train.lr=1e-3", "network.width=32", "train.steps=5", "data.name=rings"])
    assert (cfg.train.lr, cfg.network.width, cfg.train.steps, cfg.data.name) == (1e-3, 32, 5, "rings")
    assert cfg.train.batch == C.TrainConfig().batch


def test_later_override_wins():
    assert C.apply_overrides(C.Config(), ["train.steps=5", "train.steps=6"]).train.steps == 6


@pytest.mark.parametrize("text, key", [("train.stepz=5", "train.stepz"), ("train.steps=abc", "train.steps"),
                                       ("nope.x=1", "nope")])
def test_bad_override_names_the_key(text, key):
    with pytest.raises(DiffcliError) as e:
        C.apply_overrides(C.Config(), [text])
    assert key in str(e.value)


# ------------------------------------------------------------------------ repo configs


REPO_CONFIGS = sorted((REPO / "configs").glob("*.toml"))


def test_repo_has_configs():
    assert REPO_CONFIGS


@pytest.mark.parametrize("path", REPO_CONFIGS, ids=[p.name for p in REPO_CONFIGS])
def test_repo_config_loads_and_builds(path):
    from diffcli.training.setup import build

    cfg = C.load(path)
    assert roundtrip(cfg) == cfg
    setup = build(cfg)  # every name (data set, process, source, activation, schedule, grid) resolves
    assert setup.dataset.dim >= 1


def test_configs_named_in_the_makefile_exist():
    names = set(re.findall(r"configs/[\w.-]+\.toml", (REPO / "Makefile").read_text()))
    missing = sorted(n for n in names if not (REPO / n).is_file())
    assert not missing, f"Makefile refers to missing config files: {missing}"
