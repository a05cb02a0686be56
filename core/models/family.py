"""The contract every model family meets: a kind, typed frozen params, train, evaluate and a pickle-free round trip."""

# Modelled on implicit's RecommenderBase: one interface, one shared test mixin (tests/models/contract.py) that
# every family passes. A family's training data is its own frozen dataclass (what `train` needs, built by a
# service from the workspace); everything a trained model needs to answer questions travels in its artifact.

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Mapping, Protocol, TypeVar, runtime_checkable

import numpy as np

from core.errors import ArtifactError, ParamsError, Problem

P = TypeVar("P", bound="FamilyParams")


@dataclasses.dataclass(frozen=True)
class FamilyParams:
    """Base of every family's hyper-parameters: frozen, validated in `__post_init__`, JSON round trip.

    `from_dict(values)` refuses unknown names and wrong types with a message naming them (what a form, the CLI
    or a job sends); `from_dict(values, strict=False)` keeps the defaults for unknown or absent names (what an
    older or newer stored version holds).
    """

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[P], values: Mapping[str, Any] | None, strict: bool = True) -> P:
        """Build params from JSON-like values; see the class docstring for `strict`."""
        values = dict(values or {})
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        problems = []
        unknown = sorted(set(values) - names)
        if unknown and strict:
            problems.append(f"unknown parameter(s) {unknown}; known: {sorted(names)}")
        kept = {}
        for name in names & set(values):
            try:
                kept[name] = _coerce(values[name], hints[name])
            except (TypeError, ValueError):
                problems.append(f"{name} must be {_type_name(hints[name])}, got {values[name]!r}")
        if problems:
            raise ParamsError([Problem(f"{cls.__name__}", None, None, p) for p in problems])
        return cls(**kept)

    def replace(self: P, **changes: Any) -> P:
        """A copy with some values changed (validated again)."""
        return dataclasses.replace(self, **changes)


def check(params: FamilyParams, problems: list[str]) -> None:
    """Raise one ParamsError naming the params class when `problems` is not empty (used by __post_init__)."""
    if problems:
        raise ParamsError([Problem(type(params).__name__, None, None, p) for p in problems])


@runtime_checkable
class ModelFamily(Protocol):
    """What every trained model of a family offers; `train` and `from_artifact` are class methods.

    `to_artifact()` returns (arrays, meta): arrays are numeric or unicode numpy arrays (no objects, so no
    pickle), meta is JSON-able and holds `params` (their `to_dict()`); `from_artifact(arrays, meta)` rebuilds
    a model that answers exactly as the saved one did, and raises ArtifactError when arrays are missing.
    """

    kind: ClassVar[str]
    Params: ClassVar[type[FamilyParams]]

    @classmethod
    def train(cls, data: Any, params: Any, progress: Any = None) -> "ModelFamily": ...

    def evaluate(self, data: Any) -> dict[str, Any]: ...

    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]: ...

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> "ModelFamily": ...


def require_arrays(kind: str, arrays: Mapping[str, np.ndarray], names: typing.Iterable[str]) -> None:
    """Raise ArtifactError naming the arrays a stored version lacks (a truncated or foreign artifact)."""
    missing = sorted(set(names) - set(arrays))
    if missing:
        raise ArtifactError(f"this {kind} version lacks the arrays {missing}: it was not written by this family "
                            "or is incomplete; train a new version")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _coerce(value: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg)
            except (TypeError, ValueError):
                continue
        raise TypeError(value)
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(value)
        return value
    if origin in (tuple, list):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise TypeError(value)
        inner = args[0] if args else Any
        items = [v if inner is Any or inner is Ellipsis else _coerce(v, inner) for v in value]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise TypeError(value)
    if hint is int:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise TypeError(value)
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise TypeError(value)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
