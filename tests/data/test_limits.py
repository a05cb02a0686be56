"""Upload limits and the tester's hostile files: refused early, with a capped report and the row to fix."""

from __future__ import annotations

import io
import time
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.cli import main as cli_main
from core.config import ImportLimits
from core.data.readers import read_table
from core.errors import ConfigError, ValidationError


def _rules(data: bytes, kind: str, filename: str = "f.csv") -> list[str]:
    with pytest.raises(ValidationError) as caught:
        read_table(data, kind, filename=filename)
    return [p.rule for p in caught.value.problems]


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_IMPORT_MAX_ROWS", "2")
    monkeypatch.setenv("ATELIER_IMPORT_MAX_COLUMNS", "3")
    assert ImportLimits.from_env().max_rows == 2
    assert "too many rows: 3" in _rules(b"user_id,item_id,event\nu,i,view\nu,j,view\nu,k,view\n", "interactions")[0]
    assert "too many columns: 4" in _rules(b"item_id,name,brand,price\ni,n,b,1\n", "catalogue")[0]
    monkeypatch.setenv("ATELIER_IMPORT_MAX_ROWS", "lots")
    with pytest.raises(ConfigError, match="ATELIER_IMPORT_MAX_ROWS"):
        read_table(b"user_id,item_id,event\nu,i,view\n", "interactions")


def test_parquet_row_count_is_read_from_the_footer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_IMPORT_MAX_ROWS", "1000")
    rows = 200_000  # identical rows: a few KB of Parquet
    buffer = io.BytesIO()
    pq.write_table(pa.table({c: pa.array(["x"] * rows).dictionary_encode() for c in ("user_id", "item_id", "event")}),
                   buffer)
    assert len(buffer.getvalue()) < 50_000
    assert "too many rows: 200,000" in _rules(buffer.getvalue(), "interactions", "bomb.parquet")[0]


def test_a_report_lists_at_most_fifty_problems_then_how_many_more() -> None:
    rows = "".join(f"=u{k},i{k},bad,-{k},someday\n" for k in range(3000))
    with pytest.raises(ValidationError) as caught:
        read_table(("user_id,item_id,event,weight,timestamp\n" + rows).encode(), "interactions")
    problems = caught.value.problems
    listed = [p for p in problems if p.row is not None]
    assert len(listed) == 50 and len(problems) < 60
    assert "more problem(s) not listed" in problems[-1].rule or any("more row(s)" in p.rule for p in problems)


def test_a_hundred_thousand_columns_take_a_second_not_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = (",".join(["name"] * 100_000) + "\n" + ",".join(["x"] * 100_000) + "\n").encode()
    started = time.perf_counter()
    assert "too many columns: 100,000" in _rules(wide, "catalogue")[0]
    monkeypatch.setenv("ATELIER_IMPORT_MAX_COLUMNS", "200000")  # with the limit raised: duplicates, capped, fast
    with pytest.raises(ValidationError) as caught:
        read_table(wide, "catalogue", filename="wide.csv")
    assert len(caught.value.problems) <= 60
    assert time.perf_counter() - started < 10  # was 335 s: the duplicate-header check was quadratic


def test_an_inch_mark_names_its_row_and_line_and_the_fix() -> None:
    data = b'item_id,name\ni1,Shirt\n\ni2,Boots 5" heel\ni3,Dress\n'
    with pytest.raises(ValidationError) as caught:
        read_table(data, "catalogue", filename="c.csv")
    (problem,) = caught.value.problems
    assert problem.row == 2 and "line 4" in problem.rule and '"Boots 5"" heel"' in problem.rule


@pytest.mark.parametrize("stamp", ["0001-01-01", "9999-12-31T23:59:59Z", "2262-04-12"])
def test_placeholder_dates_are_refused_in_csv_and_parquet(stamp: str) -> None:
    csv = f"user_id,item_id,event,timestamp\nu1,i1,view,{stamp}\nu2,i2,view,2024-05-01T10:00:00+02:00\n"
    assert any("out of range" in r for r in _rules(csv.encode(), "interactions"))
    when = datetime(int(stamp[:4]), int(stamp[5:7]), int(stamp[8:10]))  # microseconds: any year fits
    buffer = io.BytesIO()
    pq.write_table(pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"],
                             "timestamp": pa.array([when], pa.timestamp("us"))}), buffer)
    assert any("out of range" in r for r in _rules(buffer.getvalue(), "interactions", "t.parquet"))


def test_the_cli_prints_a_message_not_a_traceback(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("user_id,item_id,event,timestamp\nu1,i1,view,0001-01-01\n", encoding="utf-8")
    assert cli_main(["validate", str(path), "--kind", "interactions"]) == 1
    err = capsys.readouterr().err
    assert "row 1, column 'timestamp': timestamp out of range" in err and "Traceback" not in err


def test_an_oversized_server_file_is_refused_before_it_is_read(atelier_home, tmp_path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from core.services.imports import ImportFile, import_files

    path = tmp_path / "big.csv"
    path.write_bytes(b"user_id,item_id,event\n" + b"u,i,view\n" * 2000)
    monkeypatch.setenv("ATELIER_IMPORT_MAX_BYTES", "1000")
    monkeypatch.setattr("core.services.imports._bytes", lambda source: pytest.fail("the file was read"))
    with pytest.raises(ValidationError, match="file too large"):
        import_files("big", [ImportFile("interactions", path)])
    assert not (atelier_home / "workspaces" / "big").exists()


def test_a_hostile_column_name_cannot_drive_the_terminal(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"item_id,\x1b]0;owned\x07\x1b[2J\n i1,x\n")
    assert cli_main(["validate", str(path), "--kind", "catalogue"]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b]0;owned" in err
