"""Writes the malformed-input corpus (tests/data/malformed) and the good files (tests/data/good); rerun to rebuild."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
BAD = HERE / "malformed"
GOOD = HERE / "good"

I = "user_id,item_id,event,weight,timestamp\n"  # interactions header
OK = "u1,i1,view,1,2024-05-01\n"

# name -> (kind, expected rule text, content)
BAD_FILES: dict[str, tuple[str, str, bytes]] = {
    "empty.csv": ("interactions", "empty file", b""),
    "whitespace_only.csv": ("interactions", "empty file", b"  \n\n \r\n"),
    "bom_only.csv": ("catalogue", "empty file", b"\xef\xbb\xbf"),
    "header_only.csv": ("interactions", "header only", I.encode()),
    "header_only_crlf.csv": ("customers", "header only", b"user_id,unsubscribed\r\n"),
    "missing_user_column.csv": ("interactions", "missing column", b"item_id,event\ni1,view\n"),
    "extra_column.csv": ("interactions", "unknown column", (I.strip() + ",coupon\n" + OK.strip() + ",X\n").encode()),
    "no_item_or_brand_column.csv": ("interactions", "needs one of the columns item_id or brand_id",
                                    b"user_id,event\nu1,view\n"),
    "no_event_or_weight_column.csv": ("interactions", "needs one of the columns event or weight",
                                      b"user_id,item_id\nu1,i1\n"),
    "duplicate_header.csv": ("catalogue", "duplicate column name", b"item_id,name,name\ni1,a,b\n"),
    "empty_header_name.csv": ("catalogue", "column without a name holds values", b"item_id,,name\ni1,x,a\n"),
    "pandas_index_column.csv": ("interactions", "column without a name holds values",
                                (",user_id,item_id,event\n0,u1,i1,view\n").encode()),
    "semicolon_separated.csv": ("interactions", "separated by ';'", b"user_id;item_id;event\nu1;i1;view\n"),
    "ragged_first_row_longer.csv": ("interactions", "ragged row",
                                    (I + "u1,i1,view,1,2024-05-01,EXTRA\n" + OK).encode()),
    "ragged_short_row.csv": ("interactions", "ragged row", (I + OK + "u2,i2,view\n").encode()),
    "unclosed_quote.csv": ("catalogue", "unreadable CSV", b'item_id,name\ni1,"never closed\ni2,b\n'),
    "latin1.csv": ("catalogue", "not UTF-8 at byte", "item_id,name\ni1,Pull col roulé\n".encode("latin-1")),
    "utf16.csv": ("interactions", "not UTF-8 at byte", (I + OK).encode("utf-16")),
    "formula_hyperlink.csv": ("interactions", "formula-like id", (I + '"=HYPERLINK(""http://evil.example"",""x"")",i1,view,1,2024-05-01\n').encode()),
    "formula_at_sum.csv": ("interactions", "formula-like id", (I + "@SUM(1),i1,view,1,2024-05-01\n").encode()),
    "formula_plus.csv": ("interactions", "formula-like id", (I + "u1,+1,view,1,2024-05-01\n").encode()),
    "formula_minus.csv": ("outfits", "formula-like id", b"outfit_id,item_id\n-2+3,i1\n"),
    "formula_tab.csv": ("customers", "formula-like id", b'user_id,unsubscribed\n"\t42",false\n'),
    "formula_cr.csv": ("catalogue", "formula-like id", b'item_id,name\n"\r42",x\n'),
    "formula_lf.csv": ("catalogue", "formula-like id", b'item_id,name\n"\nabc",x\n'),
    "formula_nul.csv": ("interactions", "formula-like id", (I + "\x00u1,i1,view,1,2024-05-01\n").encode()),
    "formula_brand.csv": ("catalogue", "formula-like id", b"item_id,brand\ni1,=cmd|' /C calc'!A0\n"),
    "control_char_in_id.csv": ("interactions", "invisible character in id",
                               (I + "u\x071,i1,view,1,2024-05-01\n").encode()),
    "id_with_spaces.csv": ("interactions", "leading or trailing spaces", (I + " 12 ,i1,view,1,2024-05-01\n").encode()),
    "id_too_long.csv": ("catalogue", "longer than 200", ("item_id,name\n" + "x" * 201 + ",a\n").encode()),
    "empty_user_id.csv": ("interactions", "empty id", (I + ",i1,view,1,2024-05-01\n").encode()),
    "empty_item_and_brand.csv": ("interactions", "neither item_id nor brand_id",
                                 b"user_id,item_id,brand_id,event\nu1,,,view\n"),
    "empty_event_and_weight.csv": ("interactions", "neither event nor weight", (I + "u1,i1,,,2024-05-01\n").encode()),
    "unknown_event.csv": ("interactions", "unknown event", (I + "u1,i1,purchase,,2024-05-01\n").encode()),
    "negative_weight.csv": ("interactions", "negative number", (I + "u1,i1,view,-3,2024-05-01\n").encode()),
    "huge_weight.csv": ("interactions", "number too large", (I + "u1,i1,view,1e300,2024-05-01\n").encode()),
    "nan_weight.csv": ("interactions", "not a finite number", (I + "u1,i1,view,NaN,2024-05-01\n").encode()),
    "inf_weight.csv": ("interactions", "not a finite number", (I + "u1,i1,view,inf,2024-05-01\n").encode()),
    "text_weight.csv": ("interactions", "not a number", (I + "u1,i1,view,heavy,2024-05-01\n").encode()),
    "bad_timestamp.csv": ("interactions", "unparsable timestamp", (I + "u1,i1,view,1,31/31/2024\n").encode()),
    "ambiguous_date.csv": ("interactions", "unparsable timestamp", (I + "u1,i1,view,1,05/01/2024\n").encode()),
    "mixed_valid_and_bad_dates.csv": ("interactions", "unparsable timestamp",
                                      (I + OK + "u2,i1,view,1,2024-05-01T10:00:00+02:00\n"
                                       + "u3,i1,view,1,May 1 2024\n").encode()),
    "negative_price.csv": ("catalogue", "negative number", b"item_id,price\ni1,-10\n"),
    "huge_price.csv": ("catalogue", "number too large", b"item_id,price\ni1,99999999999\n"),
    "price_with_currency.csv": ("catalogue", "not a number", b"item_id,price\ni1,EUR 10\n"),
    "duplicate_item.csv": ("catalogue", "duplicate item_id", b"item_id,name\n00123,a\n00123,b\n"),
    "duplicate_user.csv": ("customers", "duplicate user_id", b"user_id,unsubscribed\nu1,true\nu1,false\n"),
    "duplicate_outfit_row.csv": ("outfits", "duplicate row", b"outfit_id,item_id\no1,i1\no1,i2\no1,i1\n"),
    "outfits_missing_item.csv": ("outfits", "missing column", b"outfit_id,product\no1,i1\n"),
    "bad_flag.csv": ("customers", "not a true/false flag", b"user_id,unsubscribed\nu1,maybe\n"),
    "unknown_attribute_prefix.csv": ("catalogue", "unknown column", b"item_id,colour\ni1,red\n"),
}


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def parquet_files() -> dict[str, tuple[str, str, bytes]]:
    good = _parquet(pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"], "event": ["view", "order"]}))
    return {
        "int_ids.parquet": ("interactions", "wrong type in Parquet",
                            _parquet(pd.DataFrame({"user_id": [123, 456], "item_id": ["a", "b"],
                                                   "event": ["view", "view"]}))),
        "string_weight.parquet": ("interactions", "wrong type in Parquet",
                                  _parquet(pd.DataFrame({"user_id": ["u1"], "item_id": ["a"], "weight": ["1.5"]}))),
        "string_price.parquet": ("catalogue", "wrong type in Parquet",
                                 _parquet(pd.DataFrame({"item_id": ["a"], "price": ["10"]}))),
        "float_timestamp.parquet": ("interactions", "wrong type in Parquet",
                                    _parquet(pd.DataFrame({"user_id": ["u1"], "item_id": ["a"], "event": ["view"],
                                                           "timestamp": [1.5]}))),
        "nan_weight.parquet": ("interactions", "not a finite number",
                               _parquet(pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["a", "b"],
                                                      "weight": [1.0, float("inf")]}))),
        "formula_id.parquet": ("interactions", "formula-like id",
                               _parquet(pd.DataFrame({"user_id": ["=1+1"], "item_id": ["a"], "event": ["view"]}))),
        "duplicate_item.parquet": ("catalogue", "duplicate item_id", _parquet(pd.DataFrame({"item_id": ["a", "a"]}))),
        "truncated.parquet": ("interactions", "truncated", good[: len(good) // 2]),
        "corrupt_middle.parquet": ("interactions", "unreadable Parquet",
                                   good[:8] + b"\x00" * (len(good) - 16) + good[-8:]),
        "no_rows.parquet": ("interactions", "no data rows",
                            _parquet(pd.DataFrame({"user_id": pd.Series([], dtype=str),
                                                   "item_id": pd.Series([], dtype=str),
                                                   "event": pd.Series([], dtype=str)}))),
    }


# Good files: kind, id column whose exact text must survive, content.
GOOD_FILES: dict[str, tuple[str, str, bytes]] = {
    "bom.csv": ("interactions", "user_id", ("\ufeff" + I + OK + "u2,i2,order,,2024-05-02T10:00:00+02:00\n").encode()),
    "special_ids.csv": ("interactions", "item_id",
                        (I + "00123,NA,view,1,\nnull,1e5,click,,\nN/A,NaN,order,2.5,2024-05-01\n"
                         + "TRUE,0x1F,wishlist,,\n").encode()),
    "quoted_newlines.csv": ("catalogue", "item_id",
                            b'item_id,name,description,price,attr_colour\n00042,"Shirt, blue","Line one\nline two, '
                            b'with ""quotes""",12.50,\n007,Dress,"",  7 ,red\n'),
    "crlf.csv": ("customers", "user_id",
                 b"user_id,unsubscribed,bounced,test_account\r\n00123,yes,,0\r\nNA,false,1,\r\n"),
    "outfits.csv": ("outfits", "outfit_id", b"outfit_id,item_id\n001,00123\n001,NA\n002,00123\n"),
    "brand_only.csv": ("interactions", "brand_id", b"user_id,brand_id,event\n1,0042,order\n2,0042,order\n"),
    "trailing_comma.csv": ("catalogue", "item_id", b"item_id,name,price,\n10017413,Bag,11745,\n10016283,Kurta,5810,\n"),
}


def main() -> None:
    BAD.mkdir(exist_ok=True)
    GOOD.mkdir(exist_ok=True)
    rows = []
    for name, (kind, rule, content) in {**BAD_FILES, **parquet_files()}.items():
        (BAD / name).write_bytes(content)
        rows.append((name, kind, rule))
    with open(BAD / "MANIFEST.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "kind", "rule"])
        writer.writerows(rows)
    good_rows = []
    for name, (kind, column, content) in GOOD_FILES.items():
        (GOOD / name).write_bytes(content)
        good_rows.append((name, kind, column))
    (GOOD / "good.parquet").write_bytes(_parquet(pd.DataFrame({"user_id": ["00123", "NA"], "item_id": ["1e5", "null"],
                                                               "event": ["view", "order"],
                                                               "timestamp": pd.to_datetime(["2024-05-01",
                                                                                            None], utc=True)})))
    good_rows.append(("good.parquet", "interactions", "user_id"))
    with open(GOOD / "MANIFEST.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "kind", "id_column"])
        writer.writerows(good_rows)


if __name__ == "__main__":
    main()
