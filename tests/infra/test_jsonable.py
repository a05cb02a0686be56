"""One JSON conversion for audit rows, job results, metrics, CLI output and model manifests."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from core.jsonable import to_plain


def test_numpy_dates_and_paths_become_plain_values() -> None:
    value = {"n": np.int64(3), "x": np.float32(0.5), "v": np.arange(3), "at": datetime(2026, 1, 2, tzinfo=timezone.utc),
             "p": Path("/a/b"), "nested": [{"k": np.bool_(True)}]}
    assert to_plain(value) == {"n": 3, "x": 0.5, "v": [0, 1, 2], "at": "2026-01-02T00:00:00+00:00", "p": "/a/b",
                               "nested": [{"k": True}]}
    assert to_plain(value, strict=True) == to_plain(value)


def test_an_unknown_object_is_text_unless_strict() -> None:
    assert to_plain({"o": object}) == {"o": str(object)}
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        to_plain({"o": object}, strict=True)
