"""Plain JSON values from numpy numbers and arrays, timestamps and paths (one conversion for every store)."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)`: numpy scalars and arrays, dates and paths as plain values; anything else as text."""
    try:
        return strict_json_default(value)
    except TypeError:
        return str(value)


def strict_json_default(value: Any) -> Any:
    """As json_default, but a value it does not know raises TypeError (model manifests must not hold guesses)."""
    if getattr(value, "ndim", 0) and hasattr(value, "tolist"):  # before .item(): an array of 2+ has no scalar
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"value {value!r} of type {type(value).__name__} is not JSON-serialisable")


def to_plain(value: Any, strict: bool = False) -> Any:
    """A copy of `value` made only of dicts, lists, strings, numbers, booleans and None."""
    return json.loads(json.dumps(value, default=strict_json_default if strict else json_default))
