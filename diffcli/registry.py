"""Registries: name -> entry, one per kind of idea (data set, process, network, metric, sampler …).

An entry is one file in its registry's package that registers itself in one line:

    @PROCESSES.register("vpsde")
    def vpsde(beta_min: float = 0.1, beta_max: float = 20.0, prediction: str = "eps") -> VPSDE: ...

The registry imports every module of its package the first time it is asked for anything, so
`get`, `names` and `in` always see every entry, whichever module a caller imported first, and a
new entry needs no import line anywhere.

Entries that take options (data sets, processes, networks) are callables whose keyword
parameters are the options. `options(name)` reads their names, types and defaults from the
signature (or from the fields of a frozen dataclass); `build(name, given)` checks a user's options
against them (an unknown key or a wrong type is a one-line error naming what is accepted) and
calls the entry. Ranges are the entry's own business: it raises DiffcliError.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from diffcli.errors import DiffcliError, choice_error

T = TypeVar("T")


class Registry(Generic[T]):
    """name -> entry. `package`: the package whose modules hold the entries (imported on first
    use). `inputs`: parameters every entry takes from its caller, not from the user (a network's
    data `shape` and `rngs`): they are not options. `common`: options every entry accepts that
    the caller, not the entry, acts on (the model section's `conditional`, conditioning.py):
    checked and resolved with the entry's own, never passed to it."""

    def __init__(self, kind: str, package: str | None = None, inputs: tuple[str, ...] = (),
                 common: dict[str, Option] | None = None):
        self.kind = kind
        self.package = package
        self.inputs = inputs
        self.common = dict(common or {})
        self._entries: dict[str, T] = {}
        self._state = "loaded" if package is None else "new"

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = obj
            return obj

        return deco

    def _load(self) -> None:
        if self._state != "new":  # loaded, or loading (an entry's module asking during its import)
            return
        self._state = "loading"
        try:
            pkg = importlib.import_module(self.package)
            for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
                if not m.name.startswith("_"):
                    importlib.import_module(f"{self.package}.{m.name}")
        except BaseException:
            self._state = "new"  # a module that fails to import fails every call, never a partial registry
            raise
        self._state = "loaded"

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise choice_error(self.kind, name, self._entries) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    # -- entries whose keyword parameters are their options ------------------------------------
    def options(self, name: str) -> dict[str, Option]:
        """The user's options of entry `name` (its parameters but the registry's inputs)."""
        return {k: o for k, o in options_of(self.get(name)).items() if k not in self.inputs} | self.common

    def resolve(self, name: str, given: dict[str, Any], where: str = "", skip: Iterable[str] = ()) -> dict[str, Any]:
        """Every option of entry `name`: `given` checked, the rest at their defaults (those whose
        default is None, meaning "the entry decides", are left out)."""
        entry, skip = self.get(name), (*self.inputs, *skip)
        checked = check_options(entry, given, f"{self.kind} {name!r}", where, skip, self.common)
        common = {k: checked.pop(k, o.default) for k, o in self.common.items()}
        return {k: v for k, v in (resolved_options(entry, checked, skip) | common).items() if v is not None}

    def build(self, name: str, given: dict[str, Any], where: str = "", **fixed) -> Any:
        """Call entry `name` with the user's options `given` (checked against its signature) and
        the caller's `fixed` arguments (the registry's inputs, or an option the caller sets)."""
        entry = self.get(name)
        skip = (*self.inputs, *fixed)
        checked = check_options(entry, given, f"{self.kind} {name!r}", where, skip, self.common)
        return entry(**{k: v for k, v in checked.items() if k not in self.common}, **fixed)


@dataclass(frozen=True)
class Option:
    name: str
    type: Any
    default: Any  # inspect.Parameter.empty: required
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    def describe(self) -> str:
        d = "required" if self.required else f"default {self.default!r}"
        return f"{self.name}: {type_name(self.type)}, {d}" + (f" — {self.help}" if self.help else "")


def options_of(entry: Callable) -> dict[str, Option]:
    """The options an entry takes: a frozen dataclass's fields, or a callable's keyword parameters
    (those after a bare `*` or with defaults; positional-only ones are the caller's)."""
    if dataclasses.is_dataclass(entry) and isinstance(entry, type):
        hints = typing.get_type_hints(entry)
        return {
            f.name: Option(f.name, hints[f.name], _field_default(f), f.metadata.get("help", ""))
            for f in dataclasses.fields(entry) if f.init
        }
    target = entry.__init__ if isinstance(entry, type) else entry
    hints = typing.get_type_hints(target)
    params = list(inspect.signature(target).parameters.values())[1 if isinstance(entry, type) else 0:]
    out = {}
    for p in params:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            if p.kind == p.VAR_KEYWORD:
                raise TypeError(f"{entry!r} swallows unknown options with **{p.name}; name each option")
            continue
        out[p.name] = Option(p.name, hints.get(p.name, Any), p.default)
    return out


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return inspect.Parameter.empty


def check_options(entry: Callable, given: dict[str, Any], what: str, where: str = "",
                  skip: Iterable[str] = (), common: dict[str, Option] | None = None) -> dict[str, Any]:
    """`given` checked against the entry's options (and the registry's `common` ones): names and
    types (ints widen to floats).

    `where` is how the user spells an option, e.g. "model." for config keys or "--" for flags.
    """
    accepted = {k: o for k, o in options_of(entry).items() if k not in set(skip)} | (common or {})
    out = {}
    for k, v in given.items():
        if k not in accepted:
            names = ", ".join(f"{where}{a}" for a in accepted) or "none"
            raise DiffcliError(f"{what} takes no option {where}{k}; it accepts: {names}")
        out[k] = coerce(v, accepted[k].type, f"{where}{k}")
    missing = [f"{where}{k}" for k, o in accepted.items() if o.required and k not in out]
    if missing:
        raise DiffcliError(f"{what} needs {', '.join(missing)}")
    return out


def resolved_options(entry: Callable, given: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every option of the entry: the given ones (already checked) over the defaults."""
    out = {k: o.default for k, o in options_of(entry).items() if k not in set(skip) and not o.required}
    out.update(given)
    return out


def type_ok(value: Any, tp: Any) -> bool:
    """Whether a TOML-like value (bool, int, float, str, list, None) fits the annotation tp."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None) or tp is None:
        return value is None
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return isinstance(value, (list, tuple)) and all(type_ok(v, args[0]) for v in value) if args else \
            isinstance(value, (list, tuple))
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def coerce(value: Any, tp: Any, name: str) -> Any:
    """value checked against tp; an int where a float is wanted becomes that float. No option
    takes NaN or an infinity (anywhere in a list either): each is an error naming the option."""
    if not type_ok(value, tp):
        raise DiffcliError(f"{name} must be {type_name(tp)}, got {type(value).__name__} {value!r}")
    if not _all_finite(value):
        raise DiffcliError(f"{name} must be finite, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and _wants_float(tp):
        return float(value)
    return value


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    return True


def _wants_float(tp: Any) -> bool:
    if tp is float:
        return True
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return float in args and int not in args
    return False


def type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    return str(tp).replace("typing.", "").replace("<class '", "").replace("'>", "")


def summary(entry: Any) -> str:
    """The first line of an entry's docstring (its one-line description), else of its module's."""
    doc = entry.__doc__ if isinstance(entry, (type, types.FunctionType)) else type(entry).__doc__
    if not doc or doc.startswith(getattr(entry, "__name__", "\0") + "("):  # a dataclass's generated doc
        doc = getattr(inspect.getmodule(entry), "__doc__", None) or ""
    doc = inspect.cleandoc(doc)
    return doc.splitlines()[0] if doc else ""
