"""A generated corpus of hostile upload files, by class: each a Case with what a clean reader must do with it."""

# Files are built in memory at test time (no binary fixtures in git) and are small: the limits they probe are
# lowered by the test (LIMITS), so a "zip bomb" is a few KB that would inflate past 2 MB, not 10 GB.

from __future__ import annotations

import gzip
import io
import random
import zlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Env overrides the test sets: small enough that every limit is crossed by a file of a few hundred KB at most.
LIMITS = {"ATELIER_IMPORT_MAX_BYTES": "2000000", "ATELIER_IMPORT_MAX_ROWS": "20000",
          "ATELIER_IMPORT_MAX_COLUMNS": "200", "ATELIER_IMPORT_MAX_UNCOMPRESSED_BYTES": "3000000",
          "ATELIER_IMPORT_MAX_PROBLEMS": "50"}
MAX_ROWS, MAX_COLUMNS, MAX_BYTES = 20_000, 200, 2_000_000

REJECT, ACCEPT, EITHER = "reject", "accept", "either"
GOOD_INTERACTIONS = "user_id,item_id,event,timestamp\nu1,i1,view,2024-05-01T10:00:00Z\nu2,i2,order,2024-05-02\n"
GOOD_CATALOGUE = "item_id,name,brand,price\ni1,Shirt,Acme,10\ni2,Dress,Acme,20.5\n"


@dataclass(frozen=True)
class Case:
    """One hostile file: its class, name, table kind, bytes, the expected outcome and a rule the refusal names."""

    family: str
    name: str
    kind: str
    data: bytes
    expect: str = REJECT
    rule: str | None = None  # a substring of one problem's rule when refused


def parquet_bytes(table: pa.Table, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **kwargs)
    return buffer.getvalue()


def _csv(header: str, rows: list[str], newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode("utf-8")


def encodings() -> Iterator[Case]:
    text = GOOD_CATALOGUE.replace("Shirt", "Chemise élégante ✓")
    yield Case("encoding", "utf8.csv", "catalogue", text.encode(), ACCEPT)
    yield Case("encoding", "utf8_bom.csv", "catalogue", b"\xef\xbb\xbf" + text.encode(), ACCEPT)
    for codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "gb18030"):
        if codec in ("shift_jis", "gb18030"):
            body = GOOD_CATALOGUE.replace("Shirt", "シャツ")
        elif codec in ("latin-1", "cp1252"):
            body = GOOD_CATALOGUE.replace("Shirt", "Chemise élégante")
        else:
            body = text
        yield Case("encoding", f"{codec}.csv", "catalogue", body.encode(codec), REJECT, "not UTF-8")
    base = GOOD_CATALOGUE.encode()
    for label, junk in {"overlong_nul": b"\xc0\x80", "surrogate": b"\xed\xa0\x80", "lone_continuation": b"\x80",
                        "cut_multibyte": b"\xe2\x9c", "ff": b"\xff\xfe", "above_max": b"\xf4\x90\x80\x80"}.items():
        for where in ("header", "id", "end"):
            if where == "header":
                data = base.replace(b"name", b"na" + junk + b"me", 1)
            elif where == "id":
                data = base.replace(b"i2", b"i" + junk, 1)
            else:
                data = base + junk
            yield Case("encoding", f"bad_utf8_{label}_{where}.csv", "catalogue", data, REJECT, "not UTF-8")


def binary() -> Iterator[Case]:
    rng = random.Random(7)
    for k in range(12):
        size = rng.choice((1, 7, 100, 4096, 65536))
        yield Case("binary", f"random_{k}.csv", rng.choice(("catalogue", "interactions")), rng.randbytes(size), EITHER)
    for k in range(4):
        yield Case("binary", f"random_{k}.parquet", "interactions", rng.randbytes(2048), REJECT)
    magics = {"png": b"\x89PNG\r\n\x1a\n" + bytes(64), "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(32),
              "elf": b"\x7fELF\x02\x01\x01" + bytes(64), "zip": b"PK\x03\x04" + bytes(64),
              "empty_zip": b"PK\x05\x06" + bytes(18), "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64),
              "bz2": b"BZh91AY&SY" + bytes(32), "xz": b"\xfd7zXZ\x00" + bytes(32),
              "zstd": b"\x28\xb5\x2f\xfd" + bytes(8),
              "7z": b"7z\xbc\xaf\x27\x1c" + bytes(32)}
    for label, data in magics.items():
        yield Case("binary", f"{label}.csv", "catalogue", data, REJECT)
    nul = GOOD_CATALOGUE.encode().replace(b"Shirt", b"Sh\x00\x00irt")
    yield Case("binary", "nul_bytes_in_text.csv", "catalogue", nul, REJECT, "control character in text")
    yield Case("binary", "nul_header.csv", "catalogue", b"item_id\x00,name\ni1,x\n", REJECT)


def compressed() -> Iterator[Case]:
    good = GOOD_INTERACTIONS.encode()
    yield Case("gzip", "good.csv.gz", "interactions", gzip.compress(good), ACCEPT)
    yield Case("gzip", "two_members.csv.gz", "interactions",
               gzip.compress(good) + gzip.compress(b"u3,i3,view,2024-05-03\n"), ACCEPT)
    yield Case("gzip", "gzip_of_gzip.csv.gz", "interactions", gzip.compress(gzip.compress(good)), REJECT)
    bomb = gzip.compress(b"user_id,item_id,event\n" + b"u,i,view\n" * (MAX_BYTES // 9 + 10), 9)
    yield Case("gzip", "bomb.csv.gz", "interactions", bomb, REJECT, "gzip bomb")
    yield Case("gzip", "bomb_zeros.csv.gz", "interactions", gzip.compress(bytes(MAX_BYTES + 1), 9), REJECT)
    full = gzip.compress(good)
    for cut in (3, 10, len(full) // 2, len(full) - 4):
        yield Case("gzip", f"truncated_{cut}.csv.gz", "interactions", full[:cut], REJECT, "gzip")
    corrupt = bytearray(full)
    corrupt[12:20] = b"\xff" * 8
    yield Case("gzip", "corrupt.csv.gz", "interactions", bytes(corrupt), REJECT)
    table = pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"]})
    yield Case("gzip", "parquet.parquet.gz", "interactions", gzip.compress(parquet_bytes(table)), ACCEPT)
    yield Case("gzip", "raw_deflate.csv", "interactions", zlib.compress(good), REJECT)


def parquet_files() -> Iterator[Case]:
    good = pa.table({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"], "event": ["view", "order"]})
    data = parquet_bytes(good)
    yield Case("parquet", "good.parquet", "interactions", data, ACCEPT)
    for cut in (0, 4, 8, 12, 50, len(data) // 2, len(data) - 8, len(data) - 4, len(data) - 1):
        yield Case("parquet", f"truncated_{cut}.parquet", "interactions", data[:cut], REJECT)
    rng = random.Random(3)
    for k in range(8):
        broken = bytearray(data)
        start = rng.randrange(4, len(data) - 12)
        broken[start:start + 16] = rng.randbytes(16)
        yield Case("parquet", f"corrupt_{k}.parquet", "interactions", bytes(broken), EITHER)
    yield Case("parquet", "magic_only.parquet", "interactions", b"PAR1PAR1", REJECT)
    yield Case("parquet", "footer_garbage.parquet", "interactions", b"PAR1" + bytes(32) + b"\xff\xff\x00\x00PAR1",
               REJECT)
    ints = {"int64": pa.int64(), "int32": pa.int32(), "uint64": pa.uint64(), "int8": pa.int8()}
    for label, dtype in ints.items():
        for kind, columns in {"interactions": {"event": ["view", "view"]}, "catalogue": {"name": ["a", "b"]},
                              "outfits": {}, "customers": {}}.items():
            id_columns = {"interactions": ("user_id", "item_id"), "catalogue": ("item_id",),
                          "outfits": ("outfit_id", "item_id"), "customers": ("user_id",)}[kind]
            table = pa.table({**{c: pa.array([1, 2], dtype) for c in id_columns}, **columns})
            yield Case("parquet types", f"{label}_ids_{kind}.parquet", kind, parquet_bytes(table), REJECT,
                       "wrong type in Parquet")
    odd = {"float_ids": pa.array([1.5, 2.0]), "bool_ids": pa.array([True, False]),
           "binary_ids": pa.array([b"u1", b"u2"]), "list_ids": pa.array([["u1"], ["u2"]]),
           "struct_ids": pa.array([{"a": 1}, {"a": 2}]), "date_ids": pa.array([0, 1], pa.date32()),
           "decimal_ids": pa.array([1, 2], pa.decimal128(5, 0))}
    for label, array in odd.items():
        table = pa.table({"user_id": array, "item_id": ["i1", "i2"], "event": ["view", "view"]})
        yield Case("parquet types", f"{label}.parquet", "interactions", parquet_bytes(table), REJECT, "wrong type")
    texts = {"dictionary": pa.array(["u1", "u2"]).dictionary_encode(), "large_string": pa.array(["u1", "u2"],
                                                                                                  pa.large_string())}
    for label, array in texts.items():
        table = pa.table({"user_id": array, "item_id": ["i1", "i2"], "event": ["view", "view"]})
        yield Case("parquet types", f"{label}_ids.parquet", "interactions", parquet_bytes(table), ACCEPT)
    nulls = pa.table({"user_id": pa.array([None, None], pa.string()), "item_id": ["i1", "i2"], "event": ["view"] * 2})
    yield Case("parquet types", "null_ids.parquet", "interactions", parquet_bytes(nulls), REJECT, "empty id")
    for label, weights in {"nan": [np.nan, 1.0], "inf": [np.inf, 1.0], "negative": [-1.0, 1.0],
                           "huge": [1e300, 1.0], "text": ["1", "2"]}.items():
        table = pa.table({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"], "weight": weights})
        yield Case("parquet types", f"weight_{label}.parquet", "interactions", parquet_bytes(table), REJECT)
    price = pa.table({"item_id": ["i1", "i2"], "price": pa.array([1, 2], pa.decimal128(9, 2))})
    yield Case("parquet types", "decimal_price.parquet", "catalogue", parquet_bytes(price), ACCEPT)
    dup = pa.Table.from_arrays([pa.array(["i1"]), pa.array(["a"]), pa.array(["b"])], names=["item_id", "name", "name"])
    yield Case("parquet types", "duplicate_columns.parquet", "catalogue", parquet_bytes(dup), REJECT, "duplicate")
    wide = pa.table({"item_id": ["i1"], **{f"attr_c{i}": ["x"] for i in range(MAX_COLUMNS + 5)}})
    yield Case("limits", "wide.parquet", "catalogue", parquet_bytes(wide), REJECT, "too many columns")
    many = pa.table({"user_id": pa.array(["u"] * (MAX_ROWS + 1)).dictionary_encode(),
                     "item_id": pa.array(["i"] * (MAX_ROWS + 1)).dictionary_encode(),
                     "event": pa.array(["view"] * (MAX_ROWS + 1)).dictionary_encode()})
    yield Case("limits", "many_identical_rows.parquet", "interactions", parquet_bytes(many), REJECT, "too many rows")
    big = pa.table({"item_id": [f"i{k}" for k in range(3000)], "description": ["x" * 1500] * 3000})
    yield Case("limits", "large_uncompressed.parquet", "catalogue",
               parquet_bytes(big, use_dictionary=False, compression="zstd"), REJECT, "uncompressed")


def dates() -> Iterator[Case]:
    header = "user_id,item_id,event,timestamp"
    stamps = {"year_0001": "0001-01-01", "year_9999": "9999-12-31T23:59:59Z", "year_1899": "1899-12-31",
              "year_2200": "2200-01-01", "past_ns": "2262-04-12", "before_ns": "1677-09-21",
              "year_0000": "0000-01-01", "negative_year": "-0001-01-01", "feb_30": "2024-02-30",
              "hour_25": "2024-05-01T25:00:00", "epoch_number": "1714557600", "us_date": "05/01/2024",
              "words": "yesterday", "zone_garbage": "2024-05-01T10:00:00+99:00"}
    for label, stamp in stamps.items():
        yield Case("dates", f"csv_{label}.csv", "interactions", _csv(header, [f"u1,i1,view,{stamp}"]), REJECT,
                   "timestamp")
        yield Case("dates", f"csv_{label}_mixed.csv", "interactions",
                   _csv(header, ["u0,i0,view,2024-05-01T10:00:00+02:00", f"u1,i1,view,{stamp}"]), REJECT, "timestamp")
    for label, year in {"year_1": 1, "year_9999": 9999, "year_1800": 1800}.items():
        when = pd.Timestamp("2020-06-01").to_pydatetime().replace(year=year)
        for unit in ("s", "ms", "us"):
            table = pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"],
                              "timestamp": pa.array([when], pa.timestamp(unit))})
            yield Case("dates", f"parquet_{label}_{unit}.parquet", "interactions", parquet_bytes(table), REJECT,
                       "out of range")
        zoned = pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"],
                          "timestamp": pa.array([when], pa.timestamp("us", tz="Europe/Paris"))})
        yield Case("dates", f"parquet_{label}_zoned.parquet", "interactions", parquet_bytes(zoned), REJECT,
                   "out of range")
        day = pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"],
                        "timestamp": pa.array([when.date()], pa.date32())})
        yield Case("dates", f"parquet_{label}_date32.parquet", "interactions", parquet_bytes(day), REJECT,
                   "out of range")
    fine = pa.table({"user_id": ["u1"], "item_id": ["i1"], "event": ["view"],
                     "timestamp": pa.array([pd.Timestamp("2024-05-01", tz="UTC")], pa.timestamp("ns", tz="UTC"))})
    yield Case("dates", "parquet_ok.parquet", "interactions", parquet_bytes(fine), ACCEPT)


CONTROLS = {"nul": "\x00", "bell": "\x07", "backspace": "\x08", "esc_colour": "\x1b[31mred\x1b[0m",
            "esc_title": "\x1b]0;owned\x07", "del": "\x7f", "c1_nel": "\x85", "c1_csi": "\x9b31m",
            "vertical_tab": "\x0b", "form_feed": "\x0c", "rlo": "\u202e", "lri": "\u2066", "pdi": "\u2069"}


def controls() -> Iterator[Case]:
    for label, char in CONTROLS.items():
        for column in ("name", "description", "category", "attr_colour"):
            frame = pd.DataFrame({"item_id": ["i1", "i2"], column: [f"Boots{char}heel", "fine"]})
            yield Case("control chars", f"{label}_in_{column}.csv", "catalogue",
                       frame.to_csv(index=False).encode(), REJECT, "control character")
        frame = pd.DataFrame({"user_id": [f"u{char}1"], "item_id": ["i1"], "event": ["view"]})
        yield Case("control chars", f"{label}_in_id.csv", "interactions", frame.to_csv(index=False).encode(), REJECT,
                   "id")
    frame = pd.DataFrame({"item_id": ["i1"], "description": ["line one\nline two\ttabbed\r\nthree"]})
    yield Case("control chars", "newlines_and_tabs_in_text.csv", "catalogue", frame.to_csv(index=False).encode(),
               ACCEPT)


INVISIBLE = {"hangul_filler": "\u3164", "braille_blank": "\u2800", "choseong_filler": "\u115f",
             "jungseong_filler": "\u1160", "halfwidth_filler": "\uffa0", "zwsp": "\u200b", "zwnj": "\u200c",
             "zwj": "\u200d", "word_joiner": "\u2060", "bom": "\ufeff", "nbsp": "\u00a0", "en_quad": "\u2000",
             "hair_space": "\u200a", "ideographic_space": "\u3000", "line_separator": "\u2028",
             "paragraph_separator": "\u2029", "private_use": "\ue000", "unassigned": "\u0378",
             "soft_hyphen": "\u00ad", "mongolian_vs": "\u180e", "cgj": "\u034f", "lrm": "\u200e",
             "tag_char": "\U000e0041", "interlinear": "\ufff9", "noncharacter": "\ufffe", "khmer_vowel": "\u17b4"}


def invisible_ids() -> Iterator[Case]:
    for label, char in INVISIBLE.items():
        for shape, value in (("alone", char), ("inside", f"u{char}1"), ("repeated", char * 3)):
            frame = pd.DataFrame({"user_id": [value, "u2"], "item_id": ["i1", "i2"], "event": ["view", "view"]})
            yield Case("invisible ids", f"{label}_{shape}.csv", "interactions", frame.to_csv(index=False).encode(),
                       REJECT, "id")
    for label, value in {"combining_acute": "\u0301", "combining_many": "\u0301\u0308\u0323",
                         "enclosing_circle": "\u20dd"}.items():
        frame = pd.DataFrame({"item_id": [value], "name": ["x"]})
        yield Case("invisible ids", f"marks_only_{label}.csv", "catalogue", frame.to_csv(index=False).encode(),
                   REJECT, "combining marks")
    # Zero-width joiners are refused in ids even inside emoji sequences (👩‍👧): `a\u200db` would pass as `ab`.
    visible = pd.DataFrame({"item_id": ["é", "e\u0301", "Ünïcödé", "商品1", "👗", "Acme Sport"], "name": ["x"] * 6})
    yield Case("invisible ids", "visible_unicode_ids.csv", "catalogue", visible.to_csv(index=False).encode(), ACCEPT)


def formulas() -> Iterator[Case]:
    for k, prefix in enumerate(("=", "+", "-", "@", "\t", "\r", "\n", "\0")):
        for kind, column in (("interactions", "user_id"), ("catalogue", "item_id"), ("catalogue", "brand")):
            base = {"interactions": {"user_id": "u1", "item_id": "i1", "event": "view"},
                    "catalogue": {"item_id": "i1", "brand": "b1"}}[kind]
            frame = pd.DataFrame([{**base, column: f"{prefix}HYPERLINK(\"http://evil\")"}])
            yield Case("formulas", f"prefix_{k}_{kind}_{column}.csv", kind, frame.to_csv(index=False).encode(),
                       REJECT)
    for k, value in enumerate(('u;=HYPERLINK("http://evil")', "a,@SUM(A1)", "b; +cmd|' /C calc'!A0", "c;-1+2",
                               "d, =1")):
        frame = pd.DataFrame({"item_id": [value], "name": ["x"]})
        yield Case("formulas", f"segment_{k}.csv", "catalogue", frame.to_csv(index=False).encode(), REJECT,
                   "formula-like id")
    # Free text may say anything (exports escape it); names that look like formulas are accepted.
    frame = pd.DataFrame({"item_id": ["i1", "i2"], "name": ["=1+2", "a;=HYPERLINK(1)"]})
    yield Case("formulas", "formula_in_name.csv", "catalogue", frame.to_csv(index=False).encode(), ACCEPT)


def structure() -> Iterator[Case]:
    for label, data in {"empty": b"", "bom_only": b"\xef\xbb\xbf", "spaces": b"   \n\t\n", "newlines": b"\n" * 50,
                        "crlf_only": b"\r\n" * 5}.items():
        yield Case("empty", f"{label}.csv", "interactions", data, REJECT, "empty file")
    for kind, header in (("interactions", "user_id,item_id,event"), ("catalogue", "item_id,name"),
                         ("outfits", "outfit_id,item_id"), ("customers", "user_id,unsubscribed")):
        yield Case("empty", f"header_only_{kind}.csv", kind, (header + "\n").encode(), REJECT, "header only")
        yield Case("empty", f"header_blank_lines_{kind}.csv", kind, (header + "\n\n\n").encode(), REJECT,
                   "header only")
        yield Case("empty", f"header_no_newline_{kind}.csv", kind, header.encode(), REJECT, "header only")
    empty_parquet = pa.table({"user_id": pa.array([], pa.string()), "item_id": pa.array([], pa.string()),
                              "event": pa.array([], pa.string())})
    yield Case("empty", "no_rows.parquet", "interactions", parquet_bytes(empty_parquet), REJECT, "no data rows")
    for label, header in {"exact": "item_id,name,name", "after_strip": "item_id,name, name ",
                          "triple": "item_id,brand,brand,brand"}.items():
        width = header.count(",") + 1
        yield Case("duplicates", f"header_{label}.csv", "catalogue", _csv(header, [",".join(["x"] * width)]),
                   REJECT, "duplicate column name")
    yield Case("duplicates", "header_case.csv", "catalogue", _csv("item_id,Item_ID", ["a,b"]), REJECT,
               "unknown column")
    yield Case("duplicates", "ids.csv", "catalogue", _csv("item_id,name", ["i1,a", "i2,b", "i1,c"]), REJECT,
               "duplicate item_id")
    yield Case("duplicates", "customers.csv", "customers", _csv("user_id", ["u1", "u1"]), REJECT, "duplicate")
    yield Case("duplicates", "outfit_rows.csv", "outfits", _csv("outfit_id,item_id", ["o1,i1", "o1,i1"]), REJECT,
               "duplicate row")
    rows = ["u1,i1,view", "u2,i2,order", "u3,i3,view"]
    for label, newline in {"lf": "\n", "crlf": "\r\n"}.items():
        yield Case("newlines", f"{label}.csv", "interactions", _csv("user_id,item_id,event", rows, newline), ACCEPT)
    yield Case("newlines", "cr_only.csv", "interactions", _csv("user_id,item_id,event", rows, "\r"), EITHER)
    yield Case("newlines", "mixed.csv", "interactions", b"user_id,item_id,event\r\nu1,i1,view\nu2,i2,order\r\n",
               ACCEPT)
    yield Case("newlines", "mixed_cr.csv", "interactions", b"user_id,item_id,event\nu1,i1,view\ru2,i2,order\n",
               EITHER)
    yield Case("newlines", "no_final_newline.csv", "interactions", b"user_id,item_id,event\nu1,i1,view", ACCEPT)
    for label, sep in {"semicolon": ";", "tab": "\t", "pipe": "|"}.items():
        yield Case("separators", f"{label}.csv", "interactions", _csv(sep.join(["user_id", "item_id", "event"]),
                                                                     [sep.join(["u1", "i1", "view"])]), REJECT)
    quotes = {"inch_mark": ['i1,Boots 5" heel'], "inch_mark_row_3": ["i1,a", "i2,b", 'i3,Boots 5" heel'],
              "two_inch_marks": ['i1,Boots 5" heel and 6" toe'], "text_after_quote": ['i1,"Boots" 5 heel'],
              "unclosed": ['i1,"Boots 5 heel', "i2,x"], "unclosed_last": ["i1,a", 'i2,"b']}
    for label, body in quotes.items():
        yield Case("quotes", f"{label}.csv", "catalogue", _csv("item_id,name", body), REJECT, "quote")
    yield Case("quotes", "doubled_quote.csv", "catalogue", _csv("item_id,name", ['i1,"Boots 5"" heel"']), ACCEPT)
    yield Case("quotes", "quoted_newlines.csv", "catalogue", _csv("item_id,description", ['i1,"a\nb\nc"']), ACCEPT)
    for label, body in {"longer": ["i1,a,extra"], "shorter": ["i1"], "late": ["i1,a"] * 50 + ["i2,b,c"]}.items():
        yield Case("ragged", f"{label}.csv", "catalogue", _csv("item_id,name", body), REJECT, "ragged row")


def sizes() -> Iterator[Case]:
    wide = ",".join(f"c{i}" for i in range(100_000)) + "\n"
    yield Case("limits", "100k_columns.csv", "catalogue", wide.encode(), REJECT, "too many columns")
    yield Case("limits", "201_columns.csv", "catalogue", _csv(",".join(["item_id"] + [f"attr_{i}" for i in range(
        MAX_COLUMNS)]), [",".join(["x"] * (MAX_COLUMNS + 1))]), REJECT, "too many columns")
    yield Case("limits", "duplicate_columns_100.csv", "catalogue", _csv(",".join(["item_id"] + ["name"] * 150),
                                                                       ["x" + ",y" * 150]), REJECT, "duplicate")
    yield Case("limits", "too_many_rows.csv", "interactions",
               _csv("user_id,item_id,event", ["u,i,view"] * (MAX_ROWS + 1)), REJECT, "too many rows")
    yield Case("limits", "too_many_rows_quoted.csv", "interactions",
               _csv("user_id,item_id,event", ['"u",i,view'] * (MAX_ROWS + 1)), REJECT, "too many rows")
    yield Case("limits", "too_many_bytes.csv", "catalogue", _csv("item_id,description", [f"i1,{'x' * MAX_BYTES}"]),
               REJECT, "too large")
    many_bad = _csv("user_id,item_id,event", [f"u{k},i{k},bad{k}" for k in range(5000)])
    yield Case("limits", "5000_bad_rows.csv", "interactions", many_bad, REJECT, "more")
    yield Case("long cells", "long_name.csv", "catalogue", _csv("item_id,name", ["i1," + "x" * 500_000]), ACCEPT)
    yield Case("long cells", "long_id.csv", "catalogue", _csv("item_id,name", ["i" * 201 + ",x"]), REJECT, "longer")
    yield Case("long cells", "long_header.csv", "catalogue", _csv("item_id," + "n" * 100_000, ["i1,x"]), REJECT,
               "unknown column")
    yield Case("long cells", "many_quoted_newlines.csv", "catalogue",
               _csv("item_id,description", ['i1,"' + "line\n" * 20_000 + '"']), ACCEPT)


def values() -> Iterator[Case]:
    header = "user_id,item_id,weight"
    for label, weight in {"thousands": '"1,000"', "overflow": "1e309", "hex": "0x10", "nan": "NaN", "inf": "inf",
                          "negative": "-1", "huge": "1e12", "currency": "$5", "percent": "5%", "words": "five"}.items():
        yield Case("numbers", f"weight_{label}.csv", "interactions", _csv(header, [f"u1,i1,{weight}"]), REJECT)
    for label, weight in {"zero": "0", "exponent": "1e2", "padded": " 2.5 "}.items():
        yield Case("numbers", f"weight_{label}.csv", "interactions", _csv(header, [f"u1,i1,{weight}"]), ACCEPT)
    yield Case("numbers", "weight_arabic_digits.csv", "interactions", _csv(header, ["u1,i1,٣"]), EITHER)
    for flag in ("maybe", "2", "tru", "yes please"):
        yield Case("flags", f"flag_{flag.replace(' ', '_')}.csv", "customers",
                   _csv("user_id,unsubscribed", [f"u1,{flag}"]), REJECT, "true/false")
    yield Case("events", "unknown_event.csv", "interactions", _csv("user_id,item_id,event", ["u1,i1,purchase"]),
               REJECT, "unknown event")


FAMILIES = (encodings, binary, compressed, parquet_files, dates, controls, invisible_ids, formulas, structure, sizes,
            values)


def corpus() -> list[Case]:
    """Every hostile case, in a stable order (names are unique)."""
    cases = [case for family in FAMILIES for case in family()]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return cases
