"""read_table rejects every file of the malformed corpus with the expected rule, and keeps good ids exactly."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from core.data.readers import MAX_PER_RULE, read_table, sniff_columns, suggest_mapping
from core.errors import ValidationError
from tests.data.conftest import BAD_CASES, GOOD, GOOD_CASES, MALFORMED


def test_corpus_is_large_enough() -> None:
    assert len(BAD_CASES) >= 30 and len(GOOD_CASES) >= 5


@pytest.mark.parametrize("case", BAD_CASES, ids=[c["file"] for c in BAD_CASES])
def test_bad_file_rejected_with_its_rule(case: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        read_table(MALFORMED / case["file"], case["kind"])
    problems = caught.value.problems
    assert any(case["rule"] in p.rule for p in problems), [str(p) for p in problems]
    assert all(p.file == case["file"] for p in problems)
    assert "nothing was imported" in str(caught.value)


@pytest.mark.parametrize("case", BAD_CASES, ids=[c["file"] for c in BAD_CASES])
def test_bad_file_rejected_from_bytes_too(case: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        read_table((MALFORMED / case["file"]).read_bytes(), case["kind"], filename=case["file"])


def _raw_column(path, column: str) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    index = rows[0].index(column)
    return [r[index] for r in rows[1:]]


@pytest.mark.parametrize("case", GOOD_CASES, ids=[c["file"] for c in GOOD_CASES])
def test_good_file_keeps_ids_exactly(case: dict[str, str]) -> None:
    path = GOOD / case["file"]
    frame = read_table(path, case["kind"])
    column = case["id_column"]
    expected = pd.read_parquet(path)[column].tolist() if path.suffix == ".parquet" else _raw_column(path, column)
    assert frame[column].tolist() == expected
    assert all(isinstance(v, str) for v in frame[column])


def test_special_ids_survive_and_weights_come_from_events() -> None:
    frame = read_table(GOOD / "special_ids.csv", "interactions")
    assert frame["user_id"].tolist() == ["00123", "null", "N/A", "TRUE"]
    assert frame["item_id"].tolist() == ["NA", "1e5", "NaN", "0x1F"]
    assert frame["weight"].dtype == np.float32
    assert frame["weight"].tolist() == [1.0, 1.5, 2.5, 3.0]  # given 1 and 2.5; click 1.5 and wishlist 3 derived
    assert frame["timestamp"].isna().tolist() == [True, True, False, True]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_quoted_newlines_bom_and_padded_numbers() -> None:
    frame = read_table(GOOD / "quoted_newlines.csv", "catalogue")
    assert frame["description"].iloc[0] == 'Line one\nline two, with "quotes"'
    assert frame["name"].iloc[0] == "Shirt, blue"
    assert frame["price"].tolist() == [12.5, 7.0]  # " 7 " is a number with spaces around it: stripped
    assert pd.isna(frame["description"].iloc[1]) and pd.isna(frame["attr_colour"].iloc[0])
    bom = read_table(GOOD / "bom.csv", "interactions")
    assert list(bom.columns[:1]) == ["user_id"]
    assert bom["timestamp"].iloc[1] == pd.Timestamp("2024-05-02T08:00:00Z")


def test_customers_flags_and_crlf() -> None:
    frame = read_table(GOOD / "crlf.csv", "customers")
    assert frame["unsubscribed"].tolist() == [True, False]
    assert frame["bounced"].tolist() == [False, True]
    assert frame["test_account"].dtype == bool


def test_mapping_renames_and_ignores() -> None:
    data = b"Customer ID,article,ts,junk\n001,0042,2024-01-01,x\n"
    mapping = {"Customer ID": "user_id", "article": "item_id", "ts": "timestamp", "junk": None}
    with pytest.raises(ValidationError, match="needs one of the columns event or weight"):
        read_table(data, "interactions", mapping=mapping, filename="x.csv")
    frame = read_table(b"Customer ID,article,what\n001,0042,order\n", "interactions",
                       mapping={"Customer ID": "user_id", "article": "item_id", "what": "event"})
    assert frame[["user_id", "item_id", "event"]].values.tolist() == [["001", "0042", "order"]]
    with pytest.raises(ValidationError, match="mapped column is not in the file"):
        read_table(b"user_id,item_id,event\n1,2,view\n", "interactions", mapping={"nope": "user_id"})
    with pytest.raises(ValidationError, match="two columns give 'user_id'"):
        read_table(b"a,b,item_id,event\n1,2,3,view\n", "interactions", mapping={"a": "user_id", "b": "user_id"})


def test_every_problem_is_listed_with_row_numbers() -> None:
    data = b"user_id,item_id,event,weight\nu1,i1,view,1\n=x,i2,nope,-1\nu3,,,\n"
    with pytest.raises(ValidationError) as caught:
        read_table(data, "interactions", filename="many.csv")
    found = {(p.row, p.column, p.rule.split(" (")[0]) for p in caught.value.problems}
    assert (2, "user_id", "formula-like id") in found
    assert (2, "event", "unknown event") in found
    assert (2, "weight", "negative number") in found
    assert (3, "item_id/brand_id", "row has neither item_id nor brand_id") in found
    assert (3, "event/weight", "row has neither event nor weight") in found


def test_many_bad_rows_are_capped_with_a_count() -> None:
    n = MAX_PER_RULE + 50
    data = ("user_id,item_id,event\n" + "".join(f"u{i},i{i},bad\n" for i in range(n))).encode()
    with pytest.raises(ValidationError) as caught:
        read_table(data, "interactions")
    rows = [p for p in caught.value.problems if p.row is not None]
    assert len(rows) == MAX_PER_RULE
    assert any("50 more row(s)" in p.rule for p in caught.value.problems)


def test_parquet_typed_columns_accepted() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"item_id": ["00123"], "price": [9],
                  "attr_colour": pd.array([None], dtype="string")}).to_parquet(buffer)
    frame = read_table(buffer.getvalue(), "catalogue", filename="c.parquet")
    assert frame["item_id"].tolist() == ["00123"] and frame["price"].tolist() == [9.0]
    assert frame["attr_colour"].isna().all()


def test_sniff_and_suggest_mapping() -> None:
    header, preview = sniff_columns(b"\xef\xbb\xbfcustomer_id,Article_ID,t_dat\n1,2,2024-01-01\n", filename="h.csv")
    assert header == ["customer_id", "Article_ID", "t_dat"]
    assert preview.iloc[0].tolist() == ["1", "2", "2024-01-01"]
    assert suggest_mapping(header, "interactions") == {"customer_id": "user_id", "Article_ID": "item_id",
                                                       "t_dat": "timestamp"}
    assert suggest_mapping(["item_id", "brand", "colour"],
                           "catalogue") == {"item_id": "item_id", "brand": "brand", "colour": None}


def test_default_event_for_files_without_one() -> None:
    data = b"user_id,item_id\n00123,0042\n"
    with pytest.raises(ValidationError, match="needs one of the columns event or weight"):
        read_table(data, "interactions")
    frame = read_table(data, "interactions", default_event="wishlist")
    assert frame["event"].tolist() == ["wishlist"] and frame["weight"].tolist() == [3.0]
    with pytest.raises(ValidationError, match="unknown default event"):
        read_table(data, "interactions", default_event="buy")
    given = read_table(b"user_id,item_id,event\n1,2,view\n", "interactions", default_event="order")
    assert given["event"].tolist() == ["view"]  # a file's own events win


def test_validate_frame_applies_upload_rules_to_typed_tables() -> None:
    from core.data.readers import validate_frame

    good = validate_frame(pd.DataFrame({"item_id": ["00123"], "price": [5.0], "attr_colour": [None]}), "catalogue", "t")
    assert good["item_id"].tolist() == ["00123"] and good["attr_colour"].isna().all()
    with pytest.raises(ValidationError, match="formula-like id"):
        validate_frame(pd.DataFrame({"item_id": ["@SUM(1)"], "price": [5.0]}), "catalogue", "public:x")
    with pytest.raises(ValidationError, match="negative number"):
        validate_frame(pd.DataFrame({"item_id": ["a"], "price": [-1.0]}), "catalogue", "public:x")
