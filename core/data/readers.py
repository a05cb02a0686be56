"""Strict readers of uploaded CSV/Parquet files: every problem is reported, or a clean generic table is returned."""

# Decisions (README "Importing data"):
# - Text is decoded strictly as UTF-8 (a BOM is accepted); ids keep their exact text (`00123`, `NA`, `null`, `1e5`).
# - Ids with surrounding spaces (` 12 `) are rejected, not stripped: ` 12` and `12` would silently be two users.
#   Numbers, events, flags and timestamps are stripped before parsing; text that is only spaces is missing.
# - Ids starting with = + - @ tab CR LF NUL are rejected (spreadsheet formula injection), as are empty ids,
#   control or invisible characters and ids over 200 characters.
# - Blank lines are skipped; row numbers count data records (header excluded, 1-based), as in the report.
# - Each rule lists at most MAX_PER_RULE rows, then one line with how many more rows break it; a file lists at most
#   ImportLimits.max_problems problems in all, then "and N more" (100,000 bad columns once made a 1 GB report).
# - Uploads are hostile: size, columns and rows are checked against ImportLimits before the file is parsed
#   (Parquet's footer gives rows and uncompressed size for free), gzip is inflated only up to the byte limit.
# - Whatever a file holds, the result is a table or a ValidationError: an unexpected exception while reading is
#   reported as a problem of the file ("unexpected reader error"), never a traceback.

from __future__ import annotations

import csv
import io
import re
import sys
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.columns import DEFAULT_EVENT_WEIGHTS, EVENTS
from core.config import ImportLimits, get_settings
from core.data.schemas import (
    FALSE_VALUES,
    FORMULA_PREFIXES,
    MAX_ID_LENGTH,
    MAX_NUMBER,
    TEXT,
    TIMESTAMP_MAX,
    TIMESTAMP_MIN,
    TRUE_VALUES,
    UTC_NS,
    TableSchema,
    allowed_column,
    conform,
    out_of_range,
    schema,
    utc_ns,
)
from core.data.unicode_rules import invisible_in_ids, on_rows, text_controls
from core.errors import AtelierError, ConfigError, Problem, ValidationError

MAX_PER_RULE = 20
UNEXPECTED = "unexpected reader error"
PARQUET_MAGIC = b"PAR1"
_NON_SPACE = re.compile(rb"\S")
_BEFORE_QUOTE = np.frombuffer(b',\n"', dtype=np.uint8)
_AFTER_QUOTE = np.frombuffer(b',\r\n"', dtype=np.uint8)
Source = str | Path | bytes | bytearray | memoryview | BinaryIO
# Column-sized Arrow buffers come from malloc, not Arrow's default mimalloc: reading 5M rows, mimalloc spent 0.8 s
# of kernel time mapping and resetting its segments (the whole read's user time is 0.6 s); malloc 0.2 s, as
# pandas' own read_csv does.
_POOL = pa.system_memory_pool()

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long descriptions are legitimate


def import_limits() -> ImportLimits:
    """The limits in force (env overrides read now); a bad override is a ConfigError naming the variable."""
    try:
        return get_settings().import_limits
    except ValueError as error:
        raise ConfigError(str(error)) from None


class _Report:
    """Collects problems, at most MAX_PER_RULE per (column, rule) and max_problems in all, counting the rest."""

    def __init__(self, file: str, max_problems: int | None = None) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.max_problems = max_problems or import_limits().max_problems
        self._more: dict[tuple[str | None, str], int] = {}
        self._count: dict[tuple[str | None, str], int] = {}

    def _room(self, already: int) -> int:
        return max(min(MAX_PER_RULE - already, self.max_problems - len(self.problems)), 0)

    def add(self, row: int | None, column: str | None, rule: str, value: Any = None) -> None:
        key = (column, rule)
        n = self._count.get(key, 0)
        self._count[key] = n + 1
        if self._room(n):
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
        room = self._room(already)
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
        hidden = 0
        for (column, rule), extra in self._more.items():
            if self._count[(column, rule)] > extra:  # the rule has rows listed: say how many more break it
                problems.append(Problem(self.file, None, column, f"{rule}: {extra} more row(s) not listed", None))
            else:
                hidden += extra
        if hidden:
            problems.append(Problem(self.file, None, None, f"and {hidden:,} more problem(s) not listed (at most "
                                    f"{self.max_problems} are): fix these first and validate again", None))
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
    limits = import_limits()
    name = _source_name(source, filename)
    return _guarded(name, lambda: _read(source, filename, tab, mapping, default_event, limits))


_T = TypeVar("_T")


def _guarded(name: str, work: Callable[[], _T]) -> _T:
    """work(), with any unexpected exception turned into a ValidationError of the file (never a traceback)."""
    try:
        return work()
    except (AtelierError, KeyboardInterrupt):
        raise
    except MemoryError:
        raise ValidationError([Problem(name, None, None, "the file does not fit in memory: split it or lower "
                                       "ATELIER_IMPORT_MAX_ROWS / ATELIER_IMPORT_MAX_BYTES", None)]) from None
    except Exception as error:  # a hostile file must end as a message, never a traceback
        raise ValidationError([Problem(name, None, None, f"{UNEXPECTED} ({type(error).__name__}: "
                                       f"{_show(str(error))}): the file could not be checked; report it with the file",
                                       None)]) from error


def _read(source: Source, filename: str | None, tab: TableSchema, mapping: dict[str, str | None] | None,
          default_event: str | None, limits: ImportLimits) -> pd.DataFrame:
    # The file's bytes are loaded here and only referenced here, so they are freed once parsed: the rules then
    # run beside the table alone (5M rows: the 255 MB of bytes were a third of the peak).
    name, data = _load(source, filename, limits)
    kind = tab.kind
    report = _Report(name, limits.max_problems)
    provided: frozenset[str] = frozenset()
    if default_event is not None and kind == "interactions":
        if default_event not in EVENTS:
            report.add(None, "event", f"unknown default event (use {', '.join(EVENTS)})", default_event)
            report.raise_if_any()
        provided = frozenset({"event"})
    if _is_parquet(name, data):
        frame = _parquet_frame(data, tab, mapping or {}, report, provided, limits)
    else:
        frame = _csv_frame(data, tab, mapping or {}, report, provided, limits)
    del data
    report.raise_if_any()
    assert frame is not None
    if "event" in provided and "event" not in frame.columns:
        frame["event"] = default_event
    validated = _validate(frame, tab, report)
    report.raise_if_any()
    return validated


def _source_name(source: Source, filename: str | None) -> str:
    if filename:
        return filename
    if isinstance(source, (str, Path)):
        return Path(source).name
    return "upload" if isinstance(source, (bytes, bytearray, memoryview)) else str(getattr(source, "name", "upload"))


def _load(source: Source, filename: str | None, limits: ImportLimits | None = None) -> tuple[str, bytes]:
    """(name, the file's bytes, gzip inflated); refuses files over the byte limit before reading them whole."""
    limits = limits or import_limits()
    name = _source_name(source, filename)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValidationError([Problem(str(path), None, None, "file not found: check the path", None)])
        _check_size(name, path.stat().st_size, limits)
        data = path.read_bytes()
    else:
        getvalue = getattr(source, "getvalue", None)
        data = bytes(getvalue() if callable(getvalue) else source.read(limits.max_bytes + 1))
    _check_size(name, len(data), limits)
    return _unpack(name, data, limits)


def check_file_size(source: Source, name: str) -> None:
    """Raise ValidationError when `source` is a path to a file over ATELIER_IMPORT_MAX_BYTES (nothing is read)."""
    if isinstance(source, (str, Path)) and Path(source).is_file():
        _check_size(name, Path(source).stat().st_size, import_limits())


def _refuse(name: str, rule: str) -> ValidationError:
    return ValidationError([Problem(name, None, None, rule, None)])


def _check_size(name: str, size: int, limits: ImportLimits, what: str = "file") -> None:
    if size > limits.max_bytes:
        raise _refuse(name, f"{what} too large: over {limits.max_bytes:,} bytes (ATELIER_IMPORT_MAX_BYTES): "
                            "split it into smaller files or raise the limit")


# Magic numbers of containers people upload by mistake (or on purpose): named so the message says what to do.
_CONTAINERS = {b"PK\x03\x04": "a zip archive or an Excel workbook: extract the CSV, or save the sheet as CSV (UTF-8)",
               b"PK\x05\x06": "an empty zip archive: extract the CSV or Parquet file and import that",
               b"BZh": "bzip2-compressed: decompress it (or use gzip) and import again",
               b"\xfd7zXZ\x00": "xz-compressed: decompress it (or use gzip) and import again",
               b"\x28\xb5\x2f\xfd": "zstd-compressed: decompress it (or use gzip) and import again",
               b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive: extract the CSV or Parquet file and import that",
               b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook: save the sheet as CSV (UTF-8)"}


def _unpack(name: str, data: bytes, limits: ImportLimits) -> tuple[str, bytes]:
    for magic, what in _CONTAINERS.items():
        if data.startswith(magic):
            raise _refuse(name, f"not a CSV or Parquet file: {what}")
    if not data.startswith(b"\x1f\x8b"):
        return name, data
    # Inflated in bounded steps: a 1 MB gzip bomb must not become 10 GB in memory before it is refused.
    out: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest.startswith(b"\x1f\x8b"):
            inflater = zlib.decompressobj(wbits=31)
            chunk = inflater.decompress(rest, limits.max_bytes + 1 - size)
            while chunk:
                out.append(chunk)
                size += len(chunk)
                if size > limits.max_bytes:
                    _check_size(name, size, limits, "decompressed file (a gzip bomb?)")
                chunk = inflater.decompress(inflater.unconsumed_tail, limits.max_bytes + 1 - size)
            if not inflater.eof:
                raise _refuse(name, "truncated gzip file: compress the file again")
            rest = inflater.unused_data
    except zlib.error as error:
        raise _refuse(name, f"corrupt gzip file ({error}): compress the file again") from None
    return name, b"".join(out)


def _is_parquet(name: str, data: bytes) -> bool:
    return data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq", ".parquet.gz"))


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
               provided: frozenset[str] = frozenset(), limits: ImportLimits | None = None) -> pd.DataFrame | None:
    limits = limits or import_limits()
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _NON_SPACE.search(body) is None:
        report.add(None, None, "empty file: no header and no rows", None)
        return None
    if not _is_utf8(body):
        try:  # the slow decode only to say where: Arrow's check says whether, at memory speed
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            offset = error.start + (len(data) - len(body))
            utf16 = " (the file is UTF-16)" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ""
            report.add(None, None, f"not UTF-8 at byte {offset}{utf16}: save the file as UTF-8",
                       repr(body[error.start:error.start + 4]))
            return None
    # The header is within the first Mi characters (4 MiB + 3 bytes hold at least that many, whole).
    text = body[: (4 << 20) + 3].decode("utf-8", errors="ignore")[: 1 << 20]
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:  # (a header with quoted newlines is still read whole)
        header = next(records)
    except csv.Error as error:
        report.add(None, None, f"unreadable CSV header ({error}): check quotes", None)
        return None
    try:  # the first record says which timestamp form to ask Arrow for; a broken one is reported further on
        first = next(records, None)
    except csv.Error:
        first = None
    del text, records
    width = len(header)
    if width > limits.max_columns:
        report.add(None, None, f"too many columns: {width:,} (at most {limits.max_columns:,}, "
                   "ATELIER_IMPORT_MAX_COLUMNS): keep the columns you import, or check the separator", None)
        return None
    quotes = _count_byte(body, b'"') if body.find(b'"') >= 0 else 0  # find() runs at memchr speed
    if not quotes and len(body) > limits.max_rows and (lines := _count_byte(body, b"\n")) > limits.max_rows + 1:
        report.add(None, None, _too_many_rows(lines - 1, limits), None)  # without quotes every line is a record
        return None
    stripped = [h.strip() for h in header]
    unnamed = [i for i, column in enumerate(stripped) if not column]
    seen: set[str] = set()
    for column in stripped:  # a set, not list.index: 100,000 columns once took minutes here
        if column and column in seen:
            report.add(None, column, "duplicate column name in the header", column)
        seen.add(column)
    ours = _apply_mapping(stripped, mapping, tab, report, provided)
    if report.problems:  # the header is wrong: parsing 100,000 columns of rows would only add noise (and 1 GB)
        return None
    if quotes and (quotes % 2 or _has_stray_quote(body)):
        # An odd quote would make Arrow read to the end of the file: find the row with the broken quote first.
        _quotes_report(body, report)
        if report.problems:
            return None
    if not _has_second_line(body):  # a header without a line break: Arrow would call it unreadable
        report.add(None, None, "header only: the file has no data rows", None)
        return None
    types = _column_types(ours, tab, first if first is not None and len(first) == width else None)
    table = _arrow_csv(body, width, types)
    if table is not None and any(t != pa.large_string() for t in types):
        table = _utc_ns_columns(table)
    if table is None and any(t != pa.large_string() for t in types):
        # A value the typed read refused, or a date the range rule refuses: read text, the rules name the row and
        # show the text as written.
        table = _arrow_csv(body, width)
    if table is None:  # a row Arrow refused: find every bad row, with its number, the slow exact way
        if not report.problems:
            _csv_rows_report(body, width, report)
        if not report.problems:
            report.add(None, None, "unreadable CSV: check quotes and separators", None)
        return None
    if table.num_rows > limits.max_rows:
        report.add(None, None, _too_many_rows(table.num_rows, limits), None)
        return None
    if table.num_rows == 0:
        report.add(None, None, "header only: the file has no data rows", None)
    for i in unnamed:  # a trailing comma gives an empty, nameless column: harmless; one with values is not
        if table.num_rows and pc.any(pc.greater(pc.binary_length(table.column(i)), 0)).as_py():
            report.add(None, f"#{i + 1}", "column without a name holds values (an index saved by pandas?): "
                       "name it or remove it", None)
    if report.problems:
        return None
    columns = {target: table.column(i).to_pandas() for i, target in enumerate(ours) if target is not None}
    return pd.DataFrame(columns)


def _arrow_csv(body: bytes, width: int, types: list[pa.DataType] | None = None) -> pa.Table | None:
    """Fields as exact strings (no NA guessing; `types` may ask for timestamps, whose empty fields are then null),
    quoted newlines allowed; None if any row is malformed or a typed field does not parse."""
    bad: list[int] = []

    def on_invalid(row: Any) -> str:
        bad.append(1)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    types = types or [pa.large_string()] * width
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            # One thread: on a shared 2-core server Arrow's pool lost to its own contention (1M rows: 0.52 s wall
            # with threads, 0.14 s without, same CPU), and the rules after it run on one core anyway.
            # 4 MiB blocks: fewer chunks for the rules to walk (and 7% less CPU than 1 MiB on 5M rows).
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            # large_string is what pandas' `str` holds: to_pandas() is then zero-copy.
            convert_options=pacsv.ConvertOptions(column_types=dict(zip(names, types)), null_values=[""],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
            memory_pool=_POOL,
        )
    except (pa.ArrowException, OSError, ValueError):
        return None
    return None if bad else table


def _column_types(ours: list[str | None], tab: TableSchema, first: list[str] | None) -> list[pa.DataType]:
    """Text everywhere, except timestamp columns whose first value Arrow parses (zoned, or naive = UTC): those are
    parsed while reading, as `_fast_timestamps` would after it (same parser), without a text column in between."""
    types: list[pa.DataType] = []
    for i, target in enumerate(ours):
        kind: pa.DataType = pa.large_string()
        if target in tab.times and first is not None and first[i] and first[i] == first[i].strip():
            for stamp in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
                try:
                    pc.cast(pa.array([first[i]]), stamp)
                except (pa.ArrowException, ValueError):
                    continue
                kind = stamp
                break
        types.append(kind)
    return types


def _utc_ns_columns(table: pa.Table) -> pa.Table | None:
    """Timestamp columns as timestamp[ns, UTC] (naive ones are UTC), so pandas takes them as they are stored;
    None when one falls outside the range the rules accept (they report it from the text)."""
    low, high = (int(t.value) // 1000 for t in (TIMESTAMP_MIN, TIMESTAMP_MAX))  # microseconds
    for i, column in enumerate(table.columns):
        if not pa.types.is_timestamp(column.type):
            continue
        micros = column.cast(pa.int64())  # zero-copy: timestamps are int64 microseconds
        least, most = (value.as_py() for value in pc.min_max(micros).values())
        if least is not None and (least < low or most >= high):
            return None
        # Naive values are UTC wall times, i.e. epoch microseconds already: reinterpreted, not shifted.
        nanos = pc.multiply(micros, 1000, memory_pool=_POOL).cast(pa.timestamp("ns", tz="UTC"))
        table = table.set_column(i, table.field(i).name, nanos)
    return table


def _is_utf8(body: bytes) -> bool:
    """Whether the bytes are valid UTF-8: Arrow's validator (GB/s) over the buffer, zero-copy."""
    offsets = pa.py_buffer(np.array([0, len(body)], dtype=np.int64))
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)])
    try:
        blob.cast(pa.large_string())
    except (pa.ArrowInvalid, ValueError):
        return False
    return True


def _count_byte(body: bytes, byte: bytes, step: int = 1 << 22) -> int:
    """How often one byte occurs: NumPy in 4 MiB windows (bytes.count ran at 0.6 GB/s, this several times that)."""
    raw = np.frombuffer(body, dtype=np.uint8)
    value = byte[0]
    return sum(int(np.count_nonzero(raw[start:start + step] == value)) for start in range(0, len(raw), step))


def _has_second_line(body: bytes) -> bool:
    """Whether anything but spaces follows the first line break after the header starts (no copy of the body)."""
    start = _NON_SPACE.search(body)
    if start is None:
        return False
    newline = body.find(b"\n", start.start())
    end = newline if newline >= 0 else len(body)
    carriage = body.find(b"\r", start.start(), end)  # only before the first LF: no second scan of the whole body
    first_break = carriage if carriage >= 0 else newline
    return first_break >= 0 and _NON_SPACE.search(body, first_break) is not None


def _has_stray_quote(body: bytes) -> bool:
    """Whether a quote neither opens a field (after , or a line start), closes one (before , or a line end) nor
    is doubled: in valid CSV every quote is one of these. Vectorised (a regex took 0.2 s per 10 MB)."""
    raw = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 26
    for start in range(0, len(raw), step):  # in 64 MiB windows: the temporaries stay small on a 1 GB file
        at = np.flatnonzero(raw[start:start + step] == 34) + start
        at = at[(at > 0) & (at < len(raw) - 1)]  # the first and the last byte can always be a quote
        stray = ~np.isin(raw[at - 1], _BEFORE_QUOTE) & ~np.isin(raw[at + 1], _AFTER_QUOTE)
        if stray.any():
            return True
    return False


def _too_many_rows(rows: int, limits: ImportLimits) -> str:
    return (f"too many rows: {rows:,} (at most {limits.max_rows:,}, ATELIER_IMPORT_MAX_ROWS): split the file "
            "or raise the limit")


def _quotes_report(body: bytes, report: _Report) -> None:
    """Rows whose quotes are broken, with the row and line number: a stray inch mark must not hide where it is.

    RFC 4180: a field is either unquoted and holds no quote, or starts with a quote, doubles the quotes inside
    and ends with a quote. Only lines with a quote are walked character by character.
    """
    fix = ('put the field in double quotes and double the quote inside (e.g. "Boots 5"" heel"), '
           "or remove the quote")
    in_quotes, record, opened = False, 0, (0, 0)
    for index, line in enumerate(body.decode("utf-8").split("\n")):
        line = line.removesuffix("\r")
        if not in_quotes and index:
            if not line:
                continue  # a blank line is skipped, as by the fast reader
            record += 1
        if '"' not in line:
            continue
        at_start, i = not in_quotes, 0
        while i < len(line):
            ch = line[i]
            if in_quotes:
                if ch == '"' and line[i + 1:i + 2] == '"':
                    i += 1  # a doubled quote inside a quoted field
                elif ch == '"':
                    in_quotes = False
                    if line[i + 1:i + 2] not in ("", ","):
                        report.add(record or None, None,
                                   f"unreadable CSV: text after a closing quote (line {index + 1}): {fix}", line)
                        return
            elif ch == '"' and at_start:
                in_quotes, opened = True, (record, index + 1)
            elif ch == '"':
                report.add(record or None, None,
                           f"unreadable CSV: quote inside an unquoted field (line {index + 1}): {fix}", line)
                return
            at_start = ch == "," and not in_quotes
            i += 1
    if in_quotes:
        row, line_no = opened
        report.add(row or None, None, f"unreadable CSV: unclosed quote, the field opened on line {line_no} never "
                   "ends: close it or remove the quote", None)


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
                   provided: frozenset[str] = frozenset(), limits: ImportLimits | None = None) -> pd.DataFrame | None:
    parquet = _parquet_file(data, report, limits or import_limits())
    if parquet is None:
        return None
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError, ValueError) as error:
        report.add(None, None, f"unreadable Parquet ({_show(str(error))}): export it again", None)
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
                columns[target] = _arrow_times(array)
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


def _arrow_times(array: pa.ChunkedArray) -> pd.Series:
    """Dates and timestamps in microseconds, UTC (naive = UTC): year 1 and 9999 fit, the range rule reports them."""
    dtype = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
    zone = getattr(dtype, "tz", None)
    if pa.types.is_dictionary(array.type):
        array = pc.cast(array, dtype)
    stamps = pc.cast(array, pa.timestamp("us", tz=zone), safe=False)  # sub-microsecond digits are noise here
    series = pd.Series(stamps.to_pandas())
    return series.dt.tz_convert("UTC") if zone else series.dt.tz_localize("UTC")


def _parquet_file(data: bytes, report: _Report, limits: ImportLimits) -> pq.ParquetFile | None:
    """The file with its footer checked against the limits (rows, columns, uncompressed size), before any read.

    A 235 KB file of 30M identical rows once took 3.7 GB: the footer tells its size before a byte is inflated.
    """
    if len(data) < 12 or data[:4] != PARQUET_MAGIC or data[-4:] != PARQUET_MAGIC:
        report.add(None, None, "truncated or not a Parquet file (no Parquet footer): export it again", None)
        return None
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        meta = parquet.metadata
        uncompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except (pa.ArrowException, OSError, ValueError) as error:
        report.add(None, None, f"unreadable Parquet ({_show(str(error))}): export it again", None)
        return None
    if meta.num_columns > limits.max_columns:
        report.add(None, None, f"too many columns: {meta.num_columns:,} (at most {limits.max_columns:,}, "
                   "ATELIER_IMPORT_MAX_COLUMNS): keep the columns you import", None)
    if meta.num_rows > limits.max_rows:
        report.add(None, None, _too_many_rows(meta.num_rows, limits), None)
    if uncompressed > limits.max_uncompressed_bytes:
        report.add(None, None, f"too large once uncompressed: {uncompressed:,} bytes (at most "
                   f"{limits.max_uncompressed_bytes:,}, ATELIER_IMPORT_MAX_UNCOMPRESSED_BYTES): split the file",
                   None)
    return None if report.problems else parquet


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
    weights: np.ndarray | None = None  # each row's weight by its event, when there is an event column
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
            out[column], weights = _check_events(values, report)
        else:
            array = _arrow(values)
            report.rows(text_controls(array), values, column,
                        "control character in text (NUL, terminal escape sequence or bidirectional override): "
                        "remove it")
            blank = _np(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(array)), 0))
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
    if weights is not None and tab.kind == "interactions":  # conform would look every event up again
        by_event = pd.Series(weights, index=checked.index)
        checked["weight"] = checked["weight"].fillna(by_event) if "weight" in checked.columns else by_event
    return conform(tab.kind, checked)


_KNOWN_EVENTS = pa.array(EVENTS + ("",))
# "", then unknown; float32 as stored (conform keeps it, no second 40 MB array on 5M rows)
_EVENT_WEIGHT = np.array([DEFAULT_EVENT_WEIGHTS[e] for e in EVENTS] + [np.nan, np.nan], dtype=np.float32)


def _check_events(values: pd.Series, report: _Report) -> tuple[pd.Series, np.ndarray]:
    """Events stripped and lower-cased, and each row's default weight (NaN when missing); unknown ones reported.

    One hash lookup per row gives both; events written as exported (`view`) are kept as they are, without the
    two string copies stripping and lower-casing cost.
    """
    raw = _arrow(values)
    codes = pc.index_in(raw, value_set=_KNOWN_EVENTS, memory_pool=_POOL)
    if codes.null_count:
        events = pc.utf8_lower(pc.utf8_trim_whitespace(raw))
        codes = pc.index_in(events, value_set=_KNOWN_EVENTS)
        report.rows(_np(pc.is_null(codes)), values, "event", f"unknown event (use {', '.join(EVENTS)})")
        values = pd.Series(events.to_pandas(), index=values.index)
    position = pc.fill_null(codes, len(_KNOWN_EVENTS)).to_numpy(zero_copy_only=False)
    return values.astype(TEXT), _EVENT_WEIGHT[position]


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
    # Cheaper still: one pass over the bytes picks the rows any rule could blame; the rules run on those only.
    array = _arrow(values)
    suspect = _suspect_ids(array)
    if suspect is None:
        masks = _id_masks(array, required)
    else:
        positions = np.flatnonzero(suspect)
        if not len(positions):
            return
        masks = {}
        for rule, part in _id_masks(pc.take(array, pa.array(positions)), required).items():
            masks[rule] = np.zeros(len(suspect), dtype=bool)
            masks[rule][positions] = part
    for rule, mask in masks.items():
        report.rows(mask, values, column, rule)


# = + - @: the other formula prefixes (tab CR LF NUL) are not plain bytes, so those ids are suspect already.
_FORMULA_FIRST_BYTES = bytes(ord(c) for c in FORMULA_PREFIXES if c.isprintable())


def _unplain_bytes(data: np.ndarray, step: int = 1 << 22) -> np.ndarray:
    """Positions of bytes outside printable ASCII (0x21-0x7E) or equal to , or ;: no rule of `_id_masks` can
    blame an id made only of the others. Compares in 4 MiB windows (a 256-entry lookup was 7x slower)."""
    found: list[np.ndarray] = []
    for start in range(0, len(data), step):
        window = data[start:start + step]
        odd = (window - np.uint8(0x21)) > np.uint8(0x7E - 0x21)  # wraps below 0x21: one compare for both ends
        odd |= window == ord(",")
        odd |= window == ord(";")
        found.append(np.flatnonzero(odd) + start)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _suspect_ids(array: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Rows any id rule could blame (empty, too long, a formula-like first byte, a byte outside plain printable
    ASCII), from the Arrow buffers; None when the array is not plain text without nulls (check every row then)."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts: list[np.ndarray] = []
    for chunk in chunks:
        if chunk.null_count or not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return None
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        _, offset_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offset_buffer, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
        lengths = np.diff(offsets)
        suspect = (lengths == 0) | (lengths > MAX_ID_LENGTH)  # ASCII-only ids (others are suspect): bytes = chars
        if len(data):
            first = data.take(offsets[:-1], mode="clip")
            for byte in _FORMULA_FIRST_BYTES:  # compares beat a 256-entry lookup table 10x here
                suspect |= first == byte
        hits = _unplain_bytes(data[offsets[0]:offsets[-1]]) + offsets[0]
        if len(hits):  # rare: mapped back to their rows by offset
            suspect[np.searchsorted(offsets, hits, side="right") - 1] = True
        parts.append(suspect)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _id_masks(array: pa.Array | pa.ChunkedArray, required: bool) -> dict[str, np.ndarray]:
    """Row masks per id rule; each row is blamed for its first broken rule only (after 'empty')."""
    length = pc.utf8_length(array)
    empty = _np(pc.equal(length, 0))
    formula = _np(pc.is_in(pc.utf8_slice_codeunits(array, 0, 1), value_set=FORMULA_FIRST)) & ~empty
    # `u;=HYPERLINK(..)` is a live formula once a semicolon-locale spreadsheet splits the cell at ';'.
    separated = _np(pc.match_substring(array, ";")) | _np(pc.match_substring(array, ","))
    inner = on_rows(separated, array, lambda part: _np(pc.match_substring_regex(part, r"[,;]\s*[=+\-@]")))
    inner &= ~empty & ~formula
    spaces = _np(pc.not_equal(pc.utf8_trim_whitespace(array), array)) & ~empty & ~formula & ~inner
    invisible = invisible_in_ids(array) & ~formula & ~inner & ~spaces & ~empty
    return {
        "empty id": empty if required else np.zeros(len(empty), dtype=bool),
        "formula-like id (starts with = + - @ tab CR LF or NUL)": formula,
        "formula-like id (a part after , or ; starts with = + - @, which a spreadsheet runs): change the id": inner,
        "id has leading or trailing spaces (ids are kept exactly: remove them)": spaces,
        "control or invisible character in id (or only combining marks): ids must be visible text, remove it":
            invisible,
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
        parsed = values if values.dtype == UTC_NS else pd.to_datetime(values, utc=True)
    else:
        text = values.str.strip()
        present = (text != "").to_numpy()
        parsed = _fast_timestamps(text, present)
        if parsed is None:  # mixed zones or precisions: pandas' ISO 8601 parser, row by row
            # Only ISO 8601: "05/01/2024" is May 1 or January 5 depending on who wrote it; refuse rather than guess.
            parsed = pd.to_datetime(text.where(present, None), utc=True, errors="coerce", format="ISO8601")
        bad = parsed.isna().to_numpy() & present
        report.rows(bad, values, column,
                    "unparsable timestamp (use ISO 8601, e.g. 2024-05-31 or 2024-05-31T14:03:00Z)")
    outside = out_of_range(parsed)
    report.rows(outside, values, column, "timestamp out of range: before 1900 or after 2199 (0001-01-01 or "
                "9999-12-31 are placeholders, not dates): give the real time or leave it empty")
    return utc_ns(parsed, outside)


def _fast_timestamps(text: pd.Series, present: np.ndarray) -> pd.Series | None:
    """Arrow's ISO 8601 cast: all values with a zone offset, or all without (taken as UTC); else None."""
    array = pc.if_else(pa.array(present), _arrow(text), pa.scalar(None, pa.string()))
    for zoned in (True, False):
        try:
            # Microseconds: years 1..9999 parse, so a placeholder date is reported as such, not as an overflow.
            if zoned:
                stamps = pc.cast(array, pa.timestamp("us", tz="UTC"))
            else:
                stamps = pc.assume_timezone(pc.cast(array, pa.timestamp("us")), "UTC")
        except (pa.ArrowException, ValueError):
            continue
        return pd.Series(stamps.to_pandas(), index=text.index)
    return None


def _check_interaction_rows(frame: pd.DataFrame, report: _Report) -> None:
    for pair, rule in ((("item_id", "brand_id"), "row has neither item_id nor brand_id"),
                       (("event", "weight"), "row has neither event nor weight")):
        both = np.ones(len(frame), dtype=bool)
        for column in pair:  # the second column only where the first is missing (usually nowhere)
            if column in frame.columns and both.any():
                values = frame[column]
                both &= values.isna().to_numpy() if column == "weight" else _np(pc.equal(
                    pc.binary_length(_arrow(values), memory_pool=_POOL), 0, memory_pool=_POOL))
        report.rows(both, frame["user_id"], "/".join(pair), rule)


def sniff_columns(source: Source, filename: str | None = None, rows: int = 5) -> tuple[list[str], pd.DataFrame]:
    """The header and first rows of a file (for the column-mapping step); raises ValidationError if unreadable."""
    limits = import_limits()
    return _guarded(_source_name(source, filename), lambda: _sniff(*_load(source, filename, limits), rows, limits))


def _sniff(name: str, data: bytes, rows: int, limits: ImportLimits) -> tuple[list[str], pd.DataFrame]:
    report = _Report(name, limits.max_problems)
    if _is_parquet(name, data):
        parquet = _parquet_file(data, report, limits)
        report.raise_if_any()
        assert parquet is not None
        try:  # the first rows only: the page previews, the import reads the whole file
            batch = next(parquet.iter_batches(batch_size=rows), None)
        except (pa.ArrowException, OSError, ValueError) as error:
            report.add(None, None, f"unreadable Parquet ({_show(str(error))}): export it again", None)
            report.raise_if_any()
            raise
        preview = batch.to_pandas() if batch is not None else pd.DataFrame(columns=parquet.schema_arrow.names)
        return [str(c) for c in parquet.schema_arrow.names], preview
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        head = body[: 1 << 20].decode("utf-8", errors="strict" if len(body) <= 1 << 20 else "ignore")
    except UnicodeDecodeError as error:
        report.add(None, None, f"not UTF-8 at byte {error.start}: save the file as UTF-8", None)
        report.raise_if_any()
        raise
    parsed: list[list[str]] = []
    # NUL would make the csv module raise ("line contains NUL"); the full read reports it as a control character.
    for fields in csv.reader(io.StringIO(head.replace("\0", ""), newline="")):
        if fields:
            parsed.append(fields)
        if len(parsed) > rows:
            break
    if not parsed:
        report.add(None, None, "empty file: no header and no rows", None)
        report.raise_if_any()
    if len(parsed[0]) > limits.max_columns:
        report.add(None, None, f"too many columns: {len(parsed[0]):,} (at most {limits.max_columns:,}, "
                   "ATELIER_IMPORT_MAX_COLUMNS): keep the columns you import, or check the separator", None)
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
