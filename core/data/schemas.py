"""The generic tables' columns, dtypes and rules, shared by the validating readers and the public-format readers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.columns import ATTRIBUTE_PREFIX, DEFAULT_EVENT_WEIGHTS, EVENTS, SUPPRESSION_FLAGS
from core.errors import AtelierError

KINDS: tuple[str, ...] = ("interactions", "catalogue", "outfits", "customers")

# Characters that make a spreadsheet run a cell as a formula (OWASP CSV injection) or break a line.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")

# Numbers above this are typing or unit mistakes (a price or weight of 1e12 is never real).
MAX_NUMBER = 1e9
MAX_ID_LENGTH = 200
# Interaction times outside these are placeholders (0001-01-01, 9999-12-31) or typing mistakes, and would not fit
# the stored datetime64[ns] (1677..2262) anyway.
TIMESTAMP_MIN = pd.Timestamp("1900-01-01", tz="UTC")
TIMESTAMP_MAX = pd.Timestamp("2200-01-01", tz="UTC")  # exclusive
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")  # the stored form of every timestamp

TEXT = pd.StringDtype(na_value=np.nan)  # pandas' default `str` dtype: exact text, NaN = missing


@dataclass(frozen=True)
class TableSchema:
    """Columns of one generic table: which are required, which are ids, numbers, flags or times."""

    kind: str
    columns: tuple[str, ...]  # canonical order of the stored table
    required: tuple[str, ...]
    ids: tuple[str, ...]  # exact strings; formula-like and empty values rejected
    keys: tuple[str, ...]  # duplicate rows over these columns are rejected
    numbers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    allow_attributes: bool = False
    # at least one of these must be present (interactions: item_id or brand_id; event or weight)
    one_of: tuple[tuple[str, ...], ...] = ()


SCHEMAS: dict[str, TableSchema] = {
    "interactions": TableSchema(
        kind="interactions",
        columns=("user_id", "item_id", "brand_id", "event", "weight", "timestamp"),
        required=("user_id",),
        ids=("user_id", "item_id", "brand_id"),
        keys=(),
        numbers=("weight",),
        times=("timestamp",),
        one_of=(("item_id", "brand_id"), ("event", "weight")),
    ),
    "catalogue": TableSchema(
        kind="catalogue",
        columns=("item_id", "name", "description", "brand", "category", "category_group", "division",
                 "price", "image_url"),
        required=("item_id",),
        ids=("item_id", "brand"),
        keys=("item_id",),
        numbers=("price",),
        allow_attributes=True,
    ),
    "outfits": TableSchema(
        kind="outfits",
        columns=("outfit_id", "item_id"),
        required=("outfit_id", "item_id"),
        ids=("outfit_id", "item_id"),
        keys=("outfit_id", "item_id"),
    ),
    "customers": TableSchema(
        kind="customers",
        columns=("user_id",) + SUPPRESSION_FLAGS,
        required=("user_id",),
        ids=("user_id",),
        keys=("user_id",),
        flags=SUPPRESSION_FLAGS,
    ),
}

# Accepted spellings of a flag (case-insensitive); empty = false.
TRUE_VALUES = frozenset({"true", "1", "yes", "y", "t"})
FALSE_VALUES = frozenset({"false", "0", "no", "n", "f", ""})


def schema(kind: str) -> TableSchema:
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise AtelierError(f"unknown table kind {kind!r}: use one of {', '.join(KINDS)}") from None


def allowed_column(kind: str, column: str) -> bool:
    s = schema(kind)
    return column in s.columns or (s.allow_attributes and column.startswith(ATTRIBUTE_PREFIX)
                                   and len(column) > len(ATTRIBUTE_PREFIX))


def conform(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The stored form of a table whose values are already valid: canonical column order and dtypes.

    Text and ids -> `str` dtype (NaN = missing; empty strings become missing except in ids, which are
    non-empty by then); weight -> float32 (from `event` when absent); price -> float64; flags -> bool;
    timestamp -> datetime64[ns, UTC] (NaT when absent). Attribute columns follow, in their given order.
    """
    s = schema(kind)
    n = len(frame)
    out: dict[str, pd.Series] = {}
    index = pd.RangeIndex(n)
    extra = [c for c in frame.columns if c not in s.columns]
    for column in list(s.columns) + extra:
        values = frame[column].reset_index(drop=True) if column in frame.columns else None
        if column in s.numbers:
            dtype = np.float32 if column == "weight" else np.float64
            if values is None and column == "weight" and "event" in frame.columns:
                out[column] = pd.Series(event_weights(frame["event"]).to_numpy(), index=index).astype(dtype)
            elif values is None:
                out[column] = pd.Series(np.full(n, np.nan), index=index, dtype=dtype)
            elif pd.api.types.is_float_dtype(values.dtype):
                out[column] = values.astype(dtype)
            else:
                out[column] = pd.to_numeric(values.replace("", np.nan), errors="coerce").astype(dtype)
        elif column in s.flags:
            if values is None:
                out[column] = pd.Series(np.zeros(n, dtype=bool), index=index)
            elif pd.api.types.is_bool_dtype(values.dtype):
                out[column] = values
            else:
                out[column] = values.fillna("").astype(str).str.strip().str.lower().isin(TRUE_VALUES)
        elif column in s.times:
            if values is None:
                out[column] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
            elif values.dtype == UTC_NS:  # already stored form (the readers give it): no copy, no second check
                out[column] = values
            elif pd.api.types.is_datetime64_any_dtype(values.dtype):
                out[column] = utc_ns(pd.to_datetime(values, utc=True))
            else:
                out[column] = parse_timestamps(values.fillna("").astype(str))
        else:
            if values is None:
                out[column] = pd.Series(np.nan, index=index, dtype=TEXT)
            else:
                text = values.astype(TEXT)
                empty = (text == "").to_numpy(dtype=bool, na_value=False)
                out[column] = text.where(~empty, np.nan) if empty.any() else text  # where() copies all of it
    return pd.DataFrame(out, index=index)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Text -> datetime64[ns, UTC]; empty -> NaT, unparsable -> NaT (the validator reports those first)."""
    stripped = values.str.strip()
    parsed = pd.to_datetime(stripped.where(stripped != "", None), utc=True, errors="coerce", format="ISO8601")
    return utc_ns(parsed)


def out_of_range(stamps: pd.Series) -> np.ndarray:
    """Rows whose (UTC, any unit) timestamp is before TIMESTAMP_MIN or not before TIMESTAMP_MAX."""
    return ((stamps < TIMESTAMP_MIN) | (stamps >= TIMESTAMP_MAX)).to_numpy(dtype=bool, na_value=False)


def utc_ns(stamps: pd.Series, outside: np.ndarray | None = None) -> pd.Series:
    """datetime64[ns, UTC]; out-of-range values (which the readers report first) become NaT instead of raising.

    outside: `out_of_range(stamps)` when the caller has it already (a second pass over 5M rows costs 50 ms).
    """
    outside = out_of_range(stamps) if outside is None else outside
    if outside.any():
        stamps = stamps.where(~outside)
    return stamps if stamps.dtype == UTC_NS else stamps.astype(UTC_NS)


def event_weights(events: pd.Series) -> pd.Series:
    """float64 weight of each event by DEFAULT_EVENT_WEIGHTS (NaN for a missing or unknown event), vectorised."""
    import pyarrow as pa  # noqa: PLC0415 — pyarrow only for the vectorised event weights
    import pyarrow.compute as pc  # noqa: PLC0415

    table = np.array([DEFAULT_EVENT_WEIGHTS[e] for e in EVENTS] + [np.nan])
    codes = pc.index_in(pa.array(events.astype(TEXT)), value_set=pa.array(list(EVENTS)))
    position = pc.fill_null(codes, len(EVENTS)).to_numpy(zero_copy_only=False)
    return pd.Series(table[position], index=events.index)
