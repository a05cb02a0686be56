"""Strict readers of uploaded CSV/Parquet files: every problem is reported, or a clean generic table is returned."""

# Decisions (README "Importing data"):
# - Text is decoded strictly as UTF-8 (a BOM is accepted); ids keep their exact text (`00123`, `NA`, `null`, `1e5`).
# - Ids with surrounding spaces (` 12 `) are rejected, not stripped: ` 12` and `12` would silently be two users.
#   Numbers, events, flags and timestamps are stripped before parsing; text that is only spaces is missing.
# - Ids starting with = + - @ tab CR LF NUL are rejected (spreadsheet formula injection), as are empty ids,
#   control or invisible characters and ids over 200 characters.
# - Blank lines are skipped; row numbers count data records (header excluded, 1-based), as in the report.
# - Each rule lists at most MAX_PER_RULE rows, then one line with how many more rows break it.

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path
from typing import Any, BinaryIO, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.columns import EVENTS
from core.data.schemas import (
    FALSE_VALUES,
    FORMULA_PREFIXES,
    MAX_ID_LENGTH,
    MAX_NUMBER,
    TEXT,
    TRUE_VALUES,
    TableSchema,
    allowed_column,
    conform,
    event_weights,
    schema,
)
from core.errors import Problem, ValidationError

MAX_PER_RULE = 200
PARQUET_MAGIC = b"PAR1"
_NON_SPACE = re.compile(rb"\S")
Source = str | Path | bytes | bytearray | memoryview | BinaryIO

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long descriptions are legitimate


class _Report:
    """Collects problems, at most MAX_PER_RULE per (column, rule), counting the rest."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._more: dict[tuple[str | None, str], int] = {}
        self._count: dict[tuple[str | None, str], int] = {}

    def add(self, row: int | None, column: str | None, rule: str, value: Any = None) -> None:
        key = (column, rule)
        n = self._count.get(key, 0)
        self._count[key] = n + 1
        if n < MAX_PER_RULE:
            self.problems.append(Problem(self.file, row, column, rule, None if value is None else _show(value)))
        else:
            self._more[key] = self._more.get(key, 0) + 1

    def rows(self, mask: np.ndarray | pd.Series, values: pd.Series, column: str, rule: str) -> None:
        """One problem per row where mask is true (row numbers are 1-based data rows)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        key = (column, rule)
        already = self._count.get(key, 0)
        room = max(MAX_PER_RULE - already, 0)
        shown = positions[:room]
        for pos, value in zip(shown, values.iloc[shown]):
            self.problems.append(Problem(self.file, int(pos) + 1, column, rule, _show(value)))
        self._count[key] = already + len(positions)
        if len(positions) > room:
            self._more[key] = self._more.get(key, 0) + len(positions) - room

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        problems = list(self.problems)
        for (column, rule), extra in self._more.items():
            problems.append(Problem(self.file, None, column, f"{rule}: {extra} more row(s) not listed", None))
        raise ValidationError(problems)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------- entry point
def read_table(source: Source, kind: str, mapping: dict[str, str | None] | None = None,
               filename: str | None = None, default_event: str | None = None) -> pd.DataFrame:
    """Read and validate one CSV or Parquet file as a generic table, or raise ValidationError listing every problem.

    source: a path, the file's bytes, or a binary file object (e.g. a Streamlit upload).
    mapping: {source column: our column}; a source column mapped to None or "" is ignored.
    default_event: interactions without an event column (e.g. a transactions export) get this event on every row.
    Returns the stored form (`core.data.schemas.conform`): ids as `str`, weight float32, timestamp UTC.
    """
    tab = schema(kind)
    name, data = _load(source, filename)
    report = _Report(name)
    provided: frozenset[str] = frozenset()
    if default_event is not None and kind == "interactions":
        if default_event not in EVENTS:
            report.add(None, "event", f"unknown default event (use {', '.join(EVENTS)})", default_event)
            report.raise_if_any()
        provided = frozenset({"event"})
    if _is_parquet(name, data):
        frame = _parquet_frame(data, tab, mapping or {}, report, provided)
    else:
        frame = _csv_frame(data, tab, mapping or {}, report, provided)
    report.raise_if_any()
    assert frame is not None
    if "event" in provided and "event" not in frame.columns:
        frame["event"] = default_event
    validated = _validate(frame, tab, report)
    report.raise_if_any()
    return validated


def _load(source: Source, filename: str | None) -> tuple[str, bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return filename or "upload", bytes(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValidationError([Problem(str(path), None, None, "file not found: check the path", None)])
        return filename or path.name, path.read_bytes()
    getvalue = getattr(source, "getvalue", None)
    data = getvalue() if callable(getvalue) else source.read()
    return filename or getattr(source, "name", None) or "upload", bytes(data)


def _is_parquet(name: str, data: bytes) -> bool:
    return data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq"))


def _apply_mapping(header: list[str], mapping: dict[str, str | None], tab: TableSchema,
                   report: _Report, provided: frozenset[str] = frozenset()) -> list[str | None]:
    """Our column name for each source column (None = ignored); reports unknown, duplicate and missing columns."""
    for source in mapping:
        if source not in header:
            report.add(None, source, "mapped column is not in the file", source)
    ours: list[str | None] = []
    for column in header:
        target = mapping.get(column, column) if column in mapping else column
        ours.append(target or None)
    seen: dict[str, str] = {}
    for column, target in zip(header, ours):
        if target is None:
            continue
        if target in seen:
            report.add(None, target, f"two columns give '{target}' ('{seen[target]}' and '{column}')", column)
            continue
        seen[target] = column
        if not allowed_column(tab.kind, target):
            hint = f"; expected {', '.join(tab.columns)}" + (" or attr_<name>" if tab.allow_attributes else "")
            report.add(None, target, f"unknown column (map it to one of ours or ignore it{hint})", column)
    present = set(seen) | provided
    for column in tab.required:
        if column not in present:
            report.add(None, column, _missing_hint(header, column), None)
    for group in tab.one_of:
        if not present.intersection(group):
            report.add(None, "/".join(group), f"needs one of the columns {' or '.join(group)}", None)
    return ours


def _missing_hint(header: list[str], column: str) -> str:
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        return "missing column (the file looks separated by ';' or tabs: save it comma-separated)"
    return "missing column (add it, or map a source column to it)"


# ---------------------------------------------------------------------------------------------- CSV
def _csv_frame(data: bytes, tab: TableSchema, mapping: dict[str, str | None], report: _Report,
               provided: frozenset[str] = frozenset()) -> pd.DataFrame | None:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _NON_SPACE.search(body) is None:
        report.add(None, None, "empty file: no header and no rows", None)
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + (len(data) - len(body))
        report.add(None, None, f"not UTF-8 at byte {offset}: save the file as UTF-8",
                   repr(body[error.start:error.start + 4]))
        return None
    try:  # the header is within the first MiB (a header with quoted newlines is still read whole)
        header = next(csv.reader(io.StringIO(text[: 1 << 20], newline=""), strict=True))
    except csv.Error as error:
        report.add(None, None, f"unreadable CSV header ({error}): check quotes", None)
        return None
    del text
    width = len(header)
    stripped = [h.strip() for h in header]
    unnamed = [i for i, column in enumerate(stripped) if not column]
    for i, column in enumerate(stripped):
        if column and stripped.index(column) != i:
            report.add(None, column, "duplicate column name in the header", column)
    ours = _apply_mapping(stripped, mapping, tab, report, provided)
    # An odd number of quote characters means an unclosed quote, which Arrow would read to the end of the file.
    table = _arrow_csv(body, width) if body.count(b'"') % 2 == 0 else None
    if table is None:  # a row Arrow refused: find every bad row, with its number, the slow exact way
        _csv_rows_report(body, width, report)
        if not report.problems:
            report.add(None, None, "unreadable CSV: check quotes and separators", None)
        return None
    if table.num_rows == 0:
        report.add(None, None, "header only: the file has no data rows", None)
    for i in unnamed:  # a trailing comma gives an empty, nameless column: harmless; one with values is not
        if table.num_rows and pc.any(pc.greater(pc.utf8_length(table.column(i)), 0)).as_py():
            report.add(None, f"#{i + 1}", "column without a name holds values (an index saved by pandas?): "
                       "name it or remove it", None)
    if report.problems:
        return None
    columns = {target: table.column(i).to_pandas() for i, target in enumerate(ours) if target is not None}
    return pd.DataFrame(columns)


def _arrow_csv(body: bytes, width: int) -> pa.Table | None:
    """All fields as exact strings (no NA guessing), quoted newlines allowed; None if any row is malformed."""
    bad: list[int] = []

    def on_invalid(row: Any) -> str:
        bad.append(1)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None
    return None if bad else table


def _csv_rows_report(body: bytes, width: int, report: _Report) -> None:
    """Field count of every record with the csv module (exact row numbers for ragged rows and bad quotes)."""
    text = body.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = 0
    try:
        next(reader)
        for fields in reader:
            if not fields:
                continue  # blank line (skipped by the fast reader too)
            records += 1
            if len(fields) != width:
                report.add(records, None, f"ragged row: {len(fields)} fields, the header has {width}", ",".join(fields))
    except csv.Error as error:
        report.add(records + 1, None, f"unreadable CSV ({error}): check quotes", None)


# ---------------------------------------------------------------------------------------------- Parquet
def _parquet_frame(data: bytes, tab: TableSchema, mapping: dict[str, str | None], report: _Report,
                   provided: frozenset[str] = frozenset()) -> pd.DataFrame | None:
    if len(data) < 12 or data[:4] != PARQUET_MAGIC or data[-4:] != PARQUET_MAGIC:
        report.add(None, None, "truncated or not a Parquet file (no Parquet footer): export it again", None)
        return None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as error:
        report.add(None, None, f"unreadable Parquet ({error}): export it again", None)
        return None
    header = [str(c).strip() for c in table.column_names]
    for i, column in enumerate(header):
        if header.index(column) != i:
            report.add(None, column, "duplicate column name", column)
    if table.num_rows == 0:
        report.add(None, None, "no data rows", None)
    ours = _apply_mapping(header, mapping, tab, report, provided)
    if report.problems:
        return None
    columns: dict[str, pd.Series] = {}
    for i, target in enumerate(ours):
        if target is None:
            continue
        array = table.column(i)
        kind = _arrow_kind(array.type)
        if target in tab.numbers:
            if kind not in ("int", "float"):
                report.add(None, target, f"wrong type in Parquet: {array.type} (a number is expected)", None)
                continue
            if kind == "float":
                bad = pc.fill_null(pc.invert(pc.is_finite(array)), False)
                series = pd.Series(array.to_numpy(zero_copy_only=False).astype(np.float64))
                report.rows(bad.to_numpy(zero_copy_only=False), series, target, "not a finite number (NaN or infinity)")
                columns[target] = series
            else:
                columns[target] = pd.Series(array.to_numpy(zero_copy_only=False).astype(np.float64))
        elif target in tab.flags:
            if kind == "bool":
                columns[target] = pd.Series(array.to_numpy(zero_copy_only=False)).fillna(False).astype(bool)
            elif kind in ("int", "text"):
                columns[target] = pd.Series(array.to_pandas()).astype(TEXT).fillna("")
            else:
                report.add(None, target, f"wrong type in Parquet: {array.type} (true/false expected)", None)
        elif target in tab.times:
            if kind == "time":
                columns[target] = pd.to_datetime(array.to_pandas(), utc=True)
            elif kind == "text":
                columns[target] = array.to_pandas().astype(TEXT).fillna("")
            else:
                report.add(None, target, f"wrong type in Parquet: {array.type} (a timestamp is expected)", None)
        else:
            if kind != "text":
                why = "ids must be stored as text so 00123 keeps its zeros" if target in tab.ids else "text expected"
                report.add(None, target, f"wrong type in Parquet: {array.type} ({why})", None)
                continue
            columns[target] = array.to_pandas().astype(TEXT).fillna("")
    if report.problems:
        return None
    return pd.DataFrame(columns)


def _arrow_kind(dtype: pa.DataType) -> str:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_null(dtype) or (
            hasattr(pa.types, "is_string_view") and pa.types.is_string_view(dtype)):
        return "text"
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype):
        return "int"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "float"
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return "time"
    return str(dtype)


# ---------------------------------------------------------------------------------------------- rules
def _validate(frame: pd.DataFrame, tab: TableSchema, report: _Report) -> pd.DataFrame:
    """Check every value against the table's rules; returns the stored form when nothing is wrong."""
    frame = frame.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        if column in tab.ids:
            _check_ids(values, column, report, required=column in tab.required)
            out[column] = values
        elif column in tab.numbers:
            out[column] = _check_numbers(values, column, report)
        elif column in tab.flags:
            out[column] = _check_flags(values, column, report)
        elif column in tab.times:
            out[column] = _check_times(values, column, report)
        elif column == "event":
            events = pc.utf8_lower(pc.utf8_trim_whitespace(_arrow(values)))
            bad = ~_np(pc.is_in(events, value_set=pa.array(EVENTS + ("",))))
            report.rows(bad, values, column, f"unknown event (use {', '.join(EVENTS)})")
            out[column] = pd.Series(events.to_pandas(), index=values.index).astype(TEXT)
        else:
            blank = _np(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(_arrow(values))), 0))
            out[column] = values.where(~blank, "") if blank.any() else values  # only spaces = missing
    checked = pd.DataFrame(out)
    if tab.kind == "interactions":
        _check_interaction_rows(checked, report)
    if tab.keys and all(k in checked.columns for k in tab.keys):
        keys = list(tab.keys)
        duplicated = checked.duplicated(keys, keep="first").to_numpy()
        shown = checked[keys[0]]
        if len(keys) > 1 and duplicated.any():
            shown = checked[keys[0]].astype(str) + " / " + checked[keys[1]].astype(str)
        rule = (f"duplicate {' + '.join(keys)} (already on an earlier row)" if len(keys) == 1
                else "duplicate row (same outfit_id and item_id earlier)")
        report.rows(duplicated, shown, "+".join(keys), rule)
    if report.problems:
        return checked
    if "weight" in checked.columns and "event" in checked.columns:
        checked["weight"] = checked["weight"].fillna(event_weights(checked["event"]))
    return conform(tab.kind, checked)


def _arrow(values: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The Arrow array behind a text column (zero-copy for pandas' pyarrow-backed `str`)."""
    return pa.array(values.astype(TEXT) if values.dtype != TEXT else values)


def _np(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


FORMULA_FIRST = pa.array(list(FORMULA_PREFIXES))


def validate_frame(frame: pd.DataFrame, kind: str, name: str) -> pd.DataFrame:
    """Apply the upload rules to an already-typed table (e.g. from a public-format reader); raises ValidationError."""
    tab = schema(kind)
    raw: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column].reset_index(drop=True)
        if column in tab.numbers or column in tab.flags or column in tab.times:
            raw[column] = values
        else:
            raw[column] = values.astype(TEXT).fillna("")
    report = _Report(name)
    checked = _validate(pd.DataFrame(raw), tab, report)
    report.raise_if_any()
    return checked


def _check_ids(values: pd.Series, column: str, report: _Report, required: bool) -> None:
    # Checking distinct ids only was tried: hashing 1M user ids costs more than these five vectorised passes.
    for rule, mask in _id_masks(_arrow(values), required).items():
        report.rows(mask, values, column, rule)


def _id_masks(array: pa.Array | pa.ChunkedArray, required: bool) -> dict[str, np.ndarray]:
    """Row masks per id rule; each row is blamed for its first broken rule only (after 'empty')."""
    length = pc.utf8_length(array)
    empty = _np(pc.equal(length, 0))
    formula = _np(pc.is_in(pc.utf8_slice_codeunits(array, 0, 1), value_set=FORMULA_FIRST)) & ~empty
    spaces = _np(pc.not_equal(pc.utf8_trim_whitespace(array), array)) & ~empty & ~formula
    control = ~_np(pc.utf8_is_printable(array)) & ~formula & ~spaces & ~empty
    return {
        "empty id": empty if required else np.zeros(len(empty), dtype=bool),
        "formula-like id (starts with = + - @ tab CR LF or NUL)": formula,
        "id has leading or trailing spaces (ids are kept exactly: remove them)": spaces,
        "control or invisible character in id": control,
        f"id longer than {MAX_ID_LENGTH} characters": _np(pc.greater(length, MAX_ID_LENGTH)),
    }


def _check_numbers(values: pd.Series, column: str, report: _Report) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype(np.float64)
        shown = values
        finite = np.isfinite(numbers.to_numpy()) | numbers.isna().to_numpy()
    else:
        shown = values
        text = values.str.strip()
        numbers = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(np.float64)
        unparsed = numbers.isna().to_numpy() & (text != "").to_numpy()
        lowered = text.str.lower()
        nonfinite_text = lowered.isin(("nan", "inf", "+inf", "-inf", "infinity", "-infinity", "+infinity")).to_numpy()
        report.rows(unparsed & ~nonfinite_text, values, column, "not a number")
        report.rows(nonfinite_text, values, column, "not a finite number (NaN or infinity)")
        numbers = numbers.where(~nonfinite_text, np.nan)
        finite = np.ones(len(values), dtype=bool)
    array = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        report.rows(finite & np.isinf(array), shown, column, "not a finite number (NaN or infinity)")
        report.rows(array < 0, shown, column, "negative number")
        report.rows(np.isfinite(array) & (array > MAX_NUMBER), shown, column, f"number too large (over {MAX_NUMBER:g})")
    return numbers


def _check_flags(values: pd.Series, column: str, report: _Report) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values
    text = values.str.strip().str.lower()
    bad = ~text.isin(TRUE_VALUES | FALSE_VALUES)
    report.rows(bad, values, column, "not a true/false flag (use true/false, 1/0, yes/no or leave empty)")
    return text.isin(TRUE_VALUES)


def _check_times(values: pd.Series, column: str, report: _Report) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    text = values.str.strip()
    present = (text != "").to_numpy()
    parsed = _fast_timestamps(text, present)
    if parsed is None:  # mixed zones or precisions: pandas' ISO 8601 parser, row by row
        # Only ISO 8601: "05/01/2024" is May 1 or January 5 depending on who wrote it; refuse rather than guess.
        parsed = pd.to_datetime(text.where(present, None), utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna().to_numpy() & present
    report.rows(bad, values, column, "unparsable timestamp (use ISO 8601, e.g. 2024-05-31 or 2024-05-31T14:03:00Z)")
    return parsed


def _fast_timestamps(text: pd.Series, present: np.ndarray) -> pd.Series | None:
    """Arrow's ISO 8601 cast: all values with a zone offset, or all without (taken as UTC); else None."""
    array = pc.if_else(pa.array(present), _arrow(text), pa.scalar(None, pa.string()))
    for zoned in (True, False):
        try:
            if zoned:
                stamps = pc.cast(array, pa.timestamp("ns", tz="UTC"))
            else:
                stamps = pc.assume_timezone(pc.cast(array, pa.timestamp("ns")), "UTC")
        except (pa.ArrowException, ValueError):
            continue
        return pd.Series(stamps.to_pandas(), index=text.index).astype("datetime64[ns, UTC]")
    return None


def _check_interaction_rows(frame: pd.DataFrame, report: _Report) -> None:
    n = len(frame)
    no_item = frame["item_id"].eq("").to_numpy() if "item_id" in frame.columns else np.ones(n, dtype=bool)
    no_brand = frame["brand_id"].eq("").to_numpy() if "brand_id" in frame.columns else np.ones(n, dtype=bool)
    report.rows(no_item & no_brand, frame["user_id"], "item_id/brand_id", "row has neither item_id nor brand_id")
    no_event = frame["event"].eq("").to_numpy() if "event" in frame.columns else np.ones(n, dtype=bool)
    no_weight = frame["weight"].isna().to_numpy() if "weight" in frame.columns else np.ones(n, dtype=bool)
    report.rows(no_event & no_weight, frame["user_id"], "event/weight", "row has neither event nor weight")


def sniff_columns(source: Source, filename: str | None = None, rows: int = 5) -> tuple[list[str], pd.DataFrame]:
    """The header and first rows of a file (for the column-mapping step); raises ValidationError if unreadable."""
    name, data = _load(source, filename)
    report = _Report(name)
    if _is_parquet(name, data):
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError, ValueError) as error:
            report.add(None, None, f"unreadable Parquet ({error}): export it again", None)
            report.raise_if_any()
            raise
        preview = table.slice(0, rows).to_pandas()
        return [str(c) for c in table.column_names], preview
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        head = body[: 1 << 20].decode("utf-8", errors="strict" if len(body) <= 1 << 20 else "ignore")
    except UnicodeDecodeError as error:
        report.add(None, None, f"not UTF-8 at byte {error.start}: save the file as UTF-8", None)
        report.raise_if_any()
        raise
    parsed: list[list[str]] = []
    for fields in csv.reader(io.StringIO(head, newline="")):
        if fields:
            parsed.append(fields)
        if len(parsed) > rows:
            break
    if not parsed:
        report.add(None, None, "empty file: no header and no rows", None)
        report.raise_if_any()
    header = [h.strip() for h in parsed[0]]
    body_rows = [r[: len(header)] + [""] * (len(header) - len(r)) for r in parsed[1:]]
    return header, pd.DataFrame(body_rows, columns=header, dtype=str) if body_rows else pd.DataFrame(columns=header)


def suggest_mapping(columns: Iterable[str], kind: str) -> dict[str, str | None]:
    """Source column -> our column by name (case, spaces and common synonyms ignored); None = ignore."""
    schema(kind)  # unknown kinds fail here, before any guessing
    synonyms = {
        "customer_id": "user_id", "customer": "user_id", "user": "user_id", "userid": "user_id",
        "article_id": "item_id", "product_id": "item_id", "sku": "item_id", "item": "item_id", "itemid": "item_id",
        "brand": "brand_id" if kind == "interactions" else "brand", "merchant_id": "brand_id", "seller_id": "brand_id",
        "brand_id": "brand_id" if kind == "interactions" else "brand", "brand_name": "brand",
        "action": "event", "event_type": "event", "action_type": "event",
        "time": "timestamp", "date": "timestamp", "t_dat": "timestamp", "datetime": "timestamp",
        "title": "name", "product_name": "name", "prod_name": "name",
        "outfit": "outfit_id", "set_id": "outfit_id", "look_id": "outfit_id",
        "gender": "division", "department": "division", "type": "category", "product_type": "category",
    }
    suggestion: dict[str, str | None] = {}
    used: set[str] = set()
    for column in columns:
        key = column.strip().lower().replace(" ", "_").replace("-", "_")
        target = key if allowed_column(kind, key) else synonyms.get(key)
        if target is not None and allowed_column(kind, target) and target not in used:
            suggestion[column] = target
            used.add(target)
        else:
            suggestion[column] = None
    return suggestion
