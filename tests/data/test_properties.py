"""Property: whatever bytes arrive, the CSV reader raises only ValidationError, and an import writes all or nothing."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.readers import read_table
from core.errors import ValidationError
from core.services.imports import ImportFile, import_files, table_checksums

KINDS = ("interactions", "catalogue", "outfits", "customers")
HEADERS = {
    "interactions": ["user_id", "item_id", "brand_id", "event", "weight", "timestamp"],
    "catalogue": ["item_id", "name", "brand", "price", "attr_colour"],
    "outfits": ["outfit_id", "item_id"],
    "customers": ["user_id", "unsubscribed", "bounced"],
}
# Cells drawn from the values that break naive readers, plus arbitrary text.
CELLS = st.one_of(
    st.sampled_from(["", "00123", "NA", "null", "1e5", " 12 ", "=1+1", "@SUM(1)", "+1", "-1", "\t5", "\r", "\n",
                     "\x00", "view", "order", "click", "true", "false", "nan", "inf", "1e400", "2024-05-01", "é", '"']),
    st.text(max_size=12),
)


IDS = st.one_of(st.sampled_from(["00123", "NA", "null", "1e5", "N/A", "TRUE", "0x1F", "a b"]),
                st.text(alphabet="abcXYZ0123456789_.", min_size=1, max_size=8))
VALID = {
    "user_id": IDS, "item_id": IDS, "brand_id": IDS, "outfit_id": IDS, "brand": IDS,
    "event": st.sampled_from(["view", "click", "wishlist", "add_to_bag", "order"]),
    "weight": st.sampled_from(["", "1", "2.5", " 3 "]),
    "timestamp": st.sampled_from(["", "2024-05-01", "2024-05-01T10:00:00Z"]),
    "name": st.text(max_size=10), "attr_colour": st.text(max_size=5),
    "price": st.sampled_from(["", "0", "19.99"]),
    "unsubscribed": st.sampled_from(["", "true", "0", "yes"]), "bounced": st.sampled_from(["", "false", "1"]),
}


@st.composite
def csv_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(KINDS))
    header = HEADERS[kind][: draw(st.integers(1, len(HEADERS[kind])))]
    if draw(st.booleans()):
        header = header + [draw(st.text(max_size=6))]
    if draw(st.booleans()):
        # Mostly valid rows (ids from the tricky-but-legal set), so accepted imports are exercised too.
        header = HEADERS[kind][:]
        rows = draw(st.lists(st.tuples(*[VALID[c] for c in header]).map(list), min_size=1, max_size=6))
        if draw(st.booleans()) and rows:  # one cell replaced by anything
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(header) - 1))
            rows[r][c] = draw(CELLS)
    else:
        rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if draw(st.booleans()):  # corrupt some bytes: truncation, BOM, invalid UTF-8
        cut = draw(st.integers(0, len(data)))
        data = draw(st.sampled_from([data[:cut], b"\xef\xbb\xbf" + data, data[:cut] + b"\xff" + data[cut:]]))
    return kind, data


@pytest.mark.slow  # 150 generated files
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_bytes())
def test_reader_raises_only_validation_error(case: tuple[str, bytes]) -> None:
    kind, data = case
    try:
        frame = read_table(data, kind, filename="fuzz.csv")
    except ValidationError as error:
        assert error.problems and all(p.file == "fuzz.csv" for p in error.problems)
        return
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    id_column = "outfit_id" if kind == "outfits" else "user_id" if kind in ("interactions", "customers") else "item_id"
    assert frame[id_column].notna().all()


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bytes_=st.binary(max_size=200))
def test_reader_survives_arbitrary_bytes(bytes_: bytes) -> None:
    for kind in KINDS:
        try:
            read_table(bytes_, kind, filename="noise.csv")
        except ValidationError:
            pass
        try:
            read_table(b"PAR1" + bytes_, kind, filename="noise.parquet")
        except ValidationError:
            pass


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(csv_bytes())
def test_import_writes_all_or_nothing(seeded_workspace, case: tuple[str, bytes]) -> None:
    kind, data = case
    before = table_checksums(seeded_workspace.path)
    try:
        expected = read_table(data, kind, filename="fuzz.csv")
    except ValidationError:
        expected = None
    try:
        import_files(seeded_workspace.path, [ImportFile(kind, data, "fuzz.csv")])
    except ValidationError:
        assert expected is None
        assert table_checksums(seeded_workspace.path) == before
        return
    assert expected is not None
    stored = pd.read_parquet(seeded_workspace.table_path(kind))
    id_column = "outfit_id" if kind == "outfits" else "user_id" if kind in ("interactions", "customers") else "item_id"
    assert stored[id_column].tolist() == expected[id_column].tolist()
