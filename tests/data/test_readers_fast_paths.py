"""The fast paths of read_table (issue 17) give exactly what the row-by-row rules give, on hostile values too."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data.readers import _id_masks, _suspect_ids, read_table
from core.data.schemas import event_weights
from core.errors import ValidationError

# Each piece breaks an id rule, or looks close to one that it does not break.
PIECES = ["u1", "00123", " 12", "12 ", "=1", "-5", "+x", "@a", "a,=b", "a;+b", "a;b", "a,b", "\u200bx", "x\u00a0",
          "é", "\u0301", "\u0301\u0302", "a\tb", "x" * 201, "x" * 200, "é" * 150, "", "NA", "1e5", "a-b", "a@b",
          "\t1", "ok!~", "a\x7fb", "\x00", "a\u2028b", "\ufeffx", "ǅ", "a b"]


@pytest.mark.parametrize("seed", range(5))
def test_id_prefilter_misses_no_row_a_rule_blames(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.choice(PIECES) if rng.random() < 0.3 else f"u{rng.randint(0, 10**6):07d}" for _ in range(3000)]
    chunked = pa.chunked_array([pa.array(values[:1000], pa.large_string()), pa.array(values[1000:], pa.large_string())])
    # Several chunks (as the CSV reader gives), string offsets, and an array with an offset into its buffers.
    for array in (chunked, pa.array(values, pa.string()), chunked.chunk(1).slice(7, 500)):
        suspect = _suspect_ids(array)
        assert suspect is not None
        for rule, mask in _id_masks(array, required=True).items():
            assert not (mask & ~suspect).any(), (rule, [v for v, m, s in zip(array.to_pylist(), mask, suspect)
                                                         if m and not s][:5])


def test_id_prefilter_declines_what_it_cannot_read() -> None:
    assert _suspect_ids(pa.array(["a", None])) is None  # nulls: the rules check every row
    assert _suspect_ids(pa.array([b"a"], pa.binary())) is None


def _csv(rows: list[str]) -> bytes:
    return ("user_id,item_id,event,timestamp\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("stamps", [
    ["2024-05-01T10:00:00Z", "2024-05-02T11:30:00+02:00", ""],  # zoned: parsed while reading
    ["2024-05-01T10:00:00", "2024-05-02", ""],  # naive = UTC: parsed while reading
    ["2024-05-01T10:00:00Z", "2024-05-02", ""],  # mixed: Arrow refuses, pandas' ISO 8601 parser reads both
    [" 2024-05-01T10:00:00Z", "2024-05-02T00:00:00.123456789Z", "2024-05-03"],  # spaces, nanoseconds
])
def test_timestamps_read_typed_equal_the_text_parse(stamps: list[str]) -> None:
    rows = [f"u{i},0{i},view,{s}" for i, s in enumerate(stamps)]
    got = read_table(_csv(rows), "interactions")["timestamp"]
    expected = pd.to_datetime(pd.Series(stamps).str.strip().replace("", None), utc=True, format="ISO8601")
    assert str(got.dtype) == "datetime64[ns, UTC]"
    pd.testing.assert_series_equal(got, expected.astype("datetime64[ns, UTC]"), check_names=False)


def test_placeholder_date_is_shown_as_written_when_read_typed() -> None:
    """The first row parses, so Arrow reads the column as timestamps; the refusal still quotes the text."""
    with pytest.raises(ValidationError) as caught:
        read_table(_csv(["u1,01,view,2024-05-01T10:00:00Z", "u2,02,view,9999-12-31T00:00:00Z"]), "interactions")
    [problem] = [p for p in caught.value.problems if "out of range" in p.rule]
    assert (problem.row, problem.value) == (2, "9999-12-31T00:00:00Z")


def test_weights_from_events_are_the_default_weights() -> None:
    events = ["view", "click", "wishlist", "add_to_bag", "order", " View ", "ORDER"]
    rows = [f"u{i},0{i},{e},2024-05-01" for i, e in enumerate(events)]
    frame = read_table(_csv(rows), "interactions")
    expected = event_weights(frame["event"].fillna("")).astype(np.float32)
    pd.testing.assert_series_equal(frame["weight"], expected, check_names=False)
    assert frame["event"].tolist()[5:] == ["view", "order"]
