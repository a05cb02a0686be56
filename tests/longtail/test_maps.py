"""Map figures of the long-tail page: compact typed coordinates, and selections mapped back to the right items."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio

from ui import maps


def _frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 50, n)
    frame = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)], "name": "x", "brand": "b",
                          "category": rng.choice(["shoes", "bags", "tops"], n), "interactions": counts,
                          "bucket": rng.choice(["head", "torso", "tail"], n)})
    return frame, rng.normal(size=(n, 2)).astype(np.float32)


def test_compact_layout_keeps_relative_positions_on_a_uint16_grid() -> None:
    layout = np.array([[0.0, 10.0], [1.0, 20.0], [0.5, np.nan], [0.25, 15.0]], dtype=np.float32)
    xy, finite = maps.compact_layout(layout)
    assert xy.dtype == np.uint16 and finite.tolist() == [True, True, False, True]
    assert xy[0].tolist() == [0, 0] and xy[1].tolist() == [maps.GRID, maps.GRID]
    assert abs(int(xy[3, 0]) - maps.GRID // 4) <= 1 and abs(int(xy[3, 1]) - maps.GRID // 2) <= 1


def test_every_traced_point_is_the_item_whose_coordinates_it_draws() -> None:
    frame, layout = _frame(500)
    layout[7] = np.nan  # an item without a map position is left out, not drawn at a corner
    highlighted = np.array([3, 7, 42, 499])
    item_map = maps.map_figure(frame, layout, "category", highlighted)
    xy, _ = maps.compact_layout(layout)
    drawn = np.concatenate(item_map.curves[:-1])
    assert sorted(drawn.tolist()) == [i for i in range(500) if i != 7]
    assert item_map.curves[-1].tolist() == [3, 42, 499] and item_map.figure.data[-1].name == "selected"
    counts, categories = frame["interactions"].to_numpy(), frame["category"].to_numpy()
    for trace, rows in zip(item_map.figure.data, item_map.curves):
        growth = maps.HIGHLIGHT_GROWTH if trace.name == "selected" else 0
        assert np.array_equal(trace.x, xy[rows, 0]) and np.array_equal(trace.y, xy[rows, 1])
        assert np.array_equal(trace.marker.size, maps.marker_sizes(counts[rows]) + growth)
        if trace.name != "selected":
            assert set(categories[rows]) == {trace.name}

def test_the_figure_sends_typed_arrays_and_no_per_point_text() -> None:
    frame, layout = _frame(20_000)
    spec = pio.to_json(maps.map_figure(frame, layout, "bucket").figure, validate=False)
    data = json.loads(spec)["data"]
    assert {trace["x"]["dtype"] for trace in data} == {"u2"} and {t["marker"]["size"]["dtype"] for t in data} == {"u1"}
    assert "customdata" not in spec and "hovertemplate" not in spec and "text" not in data[0]
    assert len(spec) < 20_000 * 8  # x, y and size: 5 bytes a point, base64-encoded


def test_a_selection_event_maps_curve_and_point_index_to_frame_rows() -> None:
    curves = (np.array([5, 9, 11]), np.array([0, 2]), np.array([9]))
    event = {"selection": {"points": [
        {"curve_number": 0, "point_index": 2}, {"curve_number": 1, "point_index": 1},
        {"curve_number": 2, "point_index": 0},  # the highlight trace repeats an item drawn below it
        {"curve_number": 0, "point_index": 1}, {"curve_number": 5, "point_index": 0},  # unknown curve: ignored
        {"curve_number": 1, "point_index": 9}, {"x": 1, "y": 2}]}}
    assert maps.selected_rows(event, curves).tolist() == [2, 9, 11]
    assert maps.selected_rows(None, curves).tolist() == []
    assert maps.selected_rows({"selection": {"points": []}}, curves).tolist() == []
