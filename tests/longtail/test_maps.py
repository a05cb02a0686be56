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
    drawn = np.concatenate(item_map.curves[:-1])  # 500 points: below MAX_EXACT, every item is drawn
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


def _item_map(curves: tuple[np.ndarray, ...], xy: np.ndarray) -> maps.ItemMap:
    return maps.ItemMap(None, curves, xy.astype(np.uint16), np.ones(len(xy), bool))  # type: ignore[arg-type]


def test_a_clicked_point_maps_curve_and_point_index_to_frame_rows() -> None:
    item_map = _item_map((np.array([5, 9, 11]), np.array([0, 2]), np.array([9])), np.zeros((12, 2)))
    event = {"selection": {"points": [
        {"curve_number": 0, "point_index": 2}, {"curve_number": 1, "point_index": 1},
        {"curve_number": 2, "point_index": 0},  # the highlight trace repeats an item drawn below it
        {"curve_number": 0, "point_index": 1}, {"curve_number": 5, "point_index": 0},  # unknown curve: ignored
        {"curve_number": 1, "point_index": 9}, {"x": 1, "y": 2}], "box": [], "lasso": []}}
    assert maps.selected_rows(event, item_map).tolist() == [2, 9, 11]
    assert maps.selected_rows(None, item_map).tolist() == []
    assert maps.selected_rows({"selection": {"points": []}}, item_map).tolist() == []


def test_a_box_or_lasso_selects_every_item_inside_it_drawn_or_not() -> None:
    xy = np.array([[10, 10], [20, 20], [30, 30], [80, 80], [20, 80]])
    item_map = _item_map((np.array([0]),), xy)  # only item 0 is drawn, as on a decimated map
    box = {"selection": {"points": [{"curve_number": 0, "point_index": 0}],
                         "box": [{"xref": "x", "yref": "y", "x": [35, 5], "y": [5, 35]}], "lasso": []}}
    assert maps.selected_rows(box, item_map).tolist() == [0, 1, 2]
    square = {"selection": {"points": [], "box": [], "lasso": [{"x": [0, 50, 50, 0], "y": [0, 0, 50, 50]}]}}
    assert maps.selected_rows(square, item_map).tolist() == [0, 1, 2]
    # A triangle whose bounding box also covers (10, 10) and (30, 30), which lie outside it.
    corner = {"selection": {"points": [], "box": [], "lasso": [{"x": [0, 40, 0], "y": [5, 100, 100]}]}}
    assert maps.selected_rows(corner, item_map).tolist() == [4]


def test_a_large_map_draws_one_item_per_colour_and_cell_the_most_interacted_with() -> None:
    frame, layout = _frame(maps.MAX_EXACT * 3)
    item_map = maps.map_figure(frame, layout, "bucket")
    drawn = np.concatenate(item_map.curves)
    assert maps.MAX_EXACT // 10 < len(drawn) < len(frame) * 0.6
    xy, counts = item_map.xy.astype(np.int64), frame["interactions"].to_numpy()
    cell = (xy * maps.CELLS // (maps.GRID + 1)) @ np.array([maps.CELLS, 1])
    key = pd.Series(cell).astype(str) + frame["bucket"]
    assert key.iloc[drawn].is_unique and set(key.iloc[drawn]) == set(key)  # every occupied (cell, colour) once
    best = pd.Series(counts).groupby(key).max()
    assert (counts[drawn] == best[key.iloc[drawn]].to_numpy()).all()


def test_cell_representatives_and_regions_on_known_points() -> None:
    from core.services import long_tail

    xy = np.array([[0.0, 0.0], [0.1, 0.1], [0.1, 0.1], [9.9, 9.9], [10.0, 10.0], [5.0, 5.0]])
    priority = np.array([1, 5, 5, 2, 3, 0])
    assert long_tail.cell_representatives(xy, priority, np.zeros(6), grid=2).tolist() == [1, 4]
    assert long_tail.cell_representatives(xy, priority, np.array([0, 0, 1, 0, 0, 0]), grid=2).tolist() == [1, 2, 4]
    assert long_tail.rows_in_region(xy, [(0, 1, 0, 1)], []).tolist() == [0, 1, 2]
    with_nan = np.vstack([xy, [np.nan, 0.5]])
    square = np.array([[4, 4], [6, 4], [6, 6], [4, 6]])
    assert long_tail.rows_in_region(with_nan, [(-1, 1, -1, 1)], [square]).tolist() == [0, 1, 2, 5]
