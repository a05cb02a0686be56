"""Long-tail maps: cached model loading, WebGL UMAP scatter figures, selection helpers, product cards, eval charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.data.workspace import Workspace
from core.services import long_tail
from ui import models
from ui.theme import ACCENT, GOLD, OTHER, SECOND

BUCKET_COLOURS = {"head": SECOND, "torso": GOLD, "tail": ACCENT}
MAX_GROUPS = 15  # more colours than this are unreadable: the rest are drawn grey as "other"
GRID = 65_535  # map coordinates are sent as uint16 steps over the bounding box
# Up to this many points a map draws every item; past it, one point per colour and cell of a CELLS × CELLS raster
# (≈ 2–3 px on a half-page map), the most interacted-with item of the cell: WebGL drawing and the wire grow with
# the points, and 100k points on 700 × 520 px mostly hide each other.
MAX_EXACT = 20_000
CELLS = 256
HIGHLIGHT_GROWTH = 3  # px added to a selected point's marker, drawn as an outline on top
SPACE_LABELS = {"als": "ALS (collaborative)", "predicted": "Predicted from content", "blended": "Blended"}


def load(ws: Workspace) -> tuple[long_tail.LongTailModel, pd.DataFrame] | None:
    """(model, items frame) of the active version, cached per version; None when none is active."""
    return models.active_model(ws, long_tail.KIND, _model_and_items)


def _model_and_items(ws: Workspace) -> tuple[long_tail.LongTailModel, pd.DataFrame] | None:
    model = long_tail.load_model(ws)
    return None if model is None else (model, long_tail.items_frame(ws, model))


def colour_groups(frame: pd.DataFrame, by: str) -> pd.Series:
    """The legend group of each item: bucket, or the MAX_GROUPS most frequent categories/brands + 'other'."""
    if by == "bucket":
        return frame["bucket"].astype(str)
    values = frame[by].replace("", "(none)").astype(str)
    top = values.value_counts().index[:MAX_GROUPS]
    return values.where(values.isin(top), "other")


@dataclass(frozen=True)
class ItemMap:
    """A map figure; for each of its traces in order, the frame rows its points are (int64 (k,) each); the map
    coordinates of every frame row (uint16 (n, 2), the figure's data coordinates) and which rows have one.

    The figure carries no per-point text or ids: a selection event's (curve_number, point_index) and its boxes
    and lassos are mapped back to frame rows on the server (`selected_rows`).
    """

    figure: go.Figure
    curves: tuple[np.ndarray, ...]
    xy: np.ndarray
    finite: np.ndarray


def compact_layout(layout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(uint16 (n, 2) coordinates on a GRID-step grid over the layout's bounding box, bool (n,) finite rows).

    The axes are hidden and only relative positions matter, so 2 bytes per coordinate keep a 100k-item map at a
    few hundred kB (float32 doubles it, plotly's default float64 quadruples it); non-finite rows map to 0.
    """
    layout = np.asarray(layout, dtype=np.float64)
    finite = np.isfinite(layout).all(axis=1)
    if not finite.any():
        return np.zeros(layout.shape, np.uint16), finite
    lo, hi = layout[finite].min(axis=0), layout[finite].max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    scaled = np.where(finite[:, None], (layout - lo) / span, 0.0)
    return np.rint(scaled * GRID).astype(np.uint16), finite


def marker_sizes(interactions: np.ndarray) -> np.ndarray:
    """Marker size per item, 3 + 2·log(1 + interactions) px rounded to uint8 (1 byte a point on the wire)."""
    sizes = 3.0 + 2.0 * np.log1p(np.maximum(np.asarray(interactions, dtype=np.float64), 0.0))
    return np.clip(np.rint(sizes), 1, 255 - HIGHLIGHT_GROWTH).astype(np.uint8)


def map_figure(frame: pd.DataFrame, layout: np.ndarray, colour_by: str, highlighted: np.ndarray | None = None,
               title: str = "") -> ItemMap:
    """A WebGL scatter of `layout` (float (n, 2), rows = frame rows), one trace per colour group.

    Coordinates travel as uint16 and marker sizes (growing with log(interactions)) as uint8 typed arrays; a hover
    names only the point's group, and the details of what is selected are listed by the page. Past MAX_EXACT
    points a map is decimated by screen cell. `highlighted` (frame rows) are drawn on top, outlined, and the rest
    are dimmed.
    """
    groups = colour_groups(frame, colour_by).to_numpy()
    xy, finite = compact_layout(layout)
    counts = frame["interactions"].to_numpy()
    sizes = marker_sizes(counts)
    dim = highlighted is not None and len(highlighted) > 0
    figure, curves = go.Figure(), []
    order = ["head", "torso", "tail"] if colour_by == "bucket" else list(pd.unique(groups))
    palette = _palette(order, colour_by)
    drawn = _decimated(np.flatnonzero(finite), xy, counts, groups)
    for name in order:
        rows = drawn[groups[drawn] == name]
        if len(rows) == 0:
            continue
        figure.add_trace(go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=str(name), hoverinfo="name",
            marker=dict(size=sizes[rows], color=palette[name], opacity=0.15 if dim else 0.7, line=dict(width=0))))
        curves.append(rows)
    if dim:
        rows = np.asarray(highlighted, dtype=np.int64)
        rows = _decimated(rows[finite[rows]], xy, counts, np.zeros(len(frame), np.int8))
        figure.add_trace(go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name="selected", hoverinfo="name",
            marker=dict(size=sizes[rows] + HIGHLIGHT_GROWTH, color="rgba(0,0,0,0)",
                        line=dict(width=2, color="black"))))
        curves.append(rows)
    figure.update_layout(title=title, height=520, margin=dict(l=10, r=10, t=40, b=10), dragmode="select",
                         legend=dict(orientation="h", y=-0.05), xaxis=dict(visible=False), yaxis=dict(visible=False))
    return ItemMap(figure, tuple(curves), xy, finite)


def _decimated(rows: np.ndarray, xy: np.ndarray, counts: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """`rows` when they are at most MAX_EXACT, else one per (group, cell): the most interacted-with."""
    if len(rows) <= MAX_EXACT:
        return rows
    return rows[long_tail.cell_representatives(xy[rows], counts[rows], groups[rows], CELLS)]


def cached_map(ws: Workspace, model: long_tail.LongTailModel, items: pd.DataFrame, space: str, colour_by: str,
               highlighted: np.ndarray) -> ItemMap:
    """`map_figure` of `space`, built once per workspace, version, space, colouring and selection.

    A rerun that changes none of them (picking a neighbour, typing a search, opening a tab) reuses the figure.
    """
    rows = np.asarray(highlighted, dtype=np.int64)
    return _cached_map(str(ws.path), str(model.version), space, colour_by, rows.tobytes(), _model=model, _items=items)


# Shared and never mutated (st.plotly_chart serialises a copy), so cache_resource: no pickling of the figure.
@st.cache_resource(max_entries=24, show_spinner=False)
def _cached_map(ws_path: str, version: str, space: str, colour_by: str, highlighted: bytes, *,
                _model: long_tail.LongTailModel, _items: pd.DataFrame) -> ItemMap:
    rows = np.frombuffer(highlighted, dtype=np.int64)
    return map_figure(_items, _model.layouts[space], colour_by, rows, SPACE_LABELS[space])


def _palette(order: list[str], colour_by: str) -> dict[str, str]:
    if colour_by == "bucket":
        return BUCKET_COLOURS

    # Up to MAX_GROUPS hues must stay apart: the house palette has 8, so the groups take plotly's 24.
    colours = px.colors.qualitative.Dark24
    return {name: (OTHER if name == "other" else colours[i % len(colours)]) for i, name in enumerate(order)}


def selected_rows(event: Any, item_map: ItemMap) -> np.ndarray:
    """Frame rows selected on a map (st.plotly_chart's on_select event on `item_map`'s figure): int64 (k,).

    A clicked point is the item its (curve_number, point_index) names; a box or lasso selects every item inside
    it, drawn or not (a decimated map draws one item per cell).
    """
    if not event:
        return np.zeros(0, np.int64)
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    if not selection:
        return np.zeros(0, np.int64)
    curves, rows = item_map.curves, []
    for point in selection.get("points", []) or []:
        curve, index = point.get("curve_number"), point.get("point_index")
        if isinstance(curve, int) and isinstance(index, int) and 0 <= curve < len(curves) \
                and 0 <= index < len(curves[curve]):
            rows.append(int(curves[curve][index]))
    boxes = [(b["x"][0], b["x"][1], b["y"][0], b["y"][1]) for b in selection.get("box", []) or []
             if len(b.get("x", [])) >= 2 and len(b.get("y", [])) >= 2]
    lassos = [np.column_stack([lasso["x"], lasso["y"]]) for lasso in selection.get("lasso", []) or []
              if len(lasso.get("x", [])) == len(lasso.get("y", [])) >= 3]
    if boxes or lassos:
        xy = np.where(item_map.finite[:, None], item_map.xy.astype(np.float64), np.nan)
        rows.extend(long_tail.rows_in_region(xy, boxes, lassos).tolist())
    return np.unique(np.asarray(rows, dtype=np.int64))


def product_card(row: pd.Series, score: float | None = None) -> None:
    """One item as a bordered card: name, brand · category, interactions and bucket, cosine if given."""
    with st.container(border=True):
        st.markdown(f"**{row['name'] or row['item_id']}**")
        st.caption(f"{row['brand']} · {row['category']} · `{row['item_id']}`")
        n = int(row["interactions"])
        line = f"{n} interaction{'' if n == 1 else 's'} · {row['bucket']}"
        if score is not None:
            line += f" · cosine {score:.2f}"
        st.write(line)


def evaluation_frame(evaluation: dict[str, Any], task: str = "users", metric: str = "ndcg@10") -> pd.DataFrame:
    """Spaces × buckets of `metric` (ndcg@10 | ap); rows in SPACES order, columns named 'bucket (n items)'."""
    table = long_tail.evaluation_table(evaluation, task)
    buckets = [b for b in ["all", "head", "torso", "tail", "0", "1-2", "3-10", "11+"] if b in set(table["bucket"])]
    counts = table.drop_duplicates("bucket").set_index("bucket")["n_items"]
    frame = table.pivot(index="space", columns="bucket", values=metric)[buckets]
    frame = frame.reindex([s for s in long_tail.SPACES if s in frame.index])
    known = {"0", "1-2", "3-10", "11+"}
    frame.columns = [f"{'known ' if b in known else ''}{b} ({int(counts[b]) if counts[b] == counts[b] else 0})"
                     for b in buckets]
    return frame


def ndcg_by_interactions_figure(evaluation: dict[str, Any], task: str = "users") -> go.Figure:
    """NDCG@10 against the number of known interactions (0, 1–2, 3–10, 11+), one line per space."""
    table = long_tail.evaluation_table(evaluation, task)
    buckets = [name for name, _, _ in long_tail.KNOWN_BUCKETS]
    figure = go.Figure()
    for space in long_tail.SPACES:
        part = table[(table["space"] == space) & table["bucket"].isin(buckets)].set_index("bucket").reindex(buckets)
        # Blended often equals one of its parents (ALS on Mango): a dash keeps both lines visible.
        dash = {"blended": "dash", "content": "dot", "popularity": "dot"}.get(space, "solid")
        figure.add_trace(go.Scatter(x=buckets, y=part["ndcg@10"], mode="lines+markers", name=space,
                                    line=dict(dash=dash, width=3 if space == "als" else 2),
                                    customdata=part["n_items"], hovertemplate="%{y:.3f} (%{customdata} items)"))
    figure.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="known interactions",
                         yaxis_title="NDCG@10", title="NDCG@10 against known interactions (cold-start protocol)")
    return figure


def cached_ndcg_figure(model: long_tail.LongTailModel, task: str = "users") -> go.Figure:
    """`ndcg_by_interactions_figure` of the version's stored evaluation, built once per version and task."""
    return _cached_ndcg_figure(str(model.version), id(model.meta), task, _evaluation=model.meta["evaluation"])


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_ndcg_figure(version: str, meta_id: int, task: str, *, _evaluation: dict[str, Any]) -> go.Figure:
    return ndcg_by_interactions_figure(_evaluation, task)


def headline_metrics(evaluation: dict[str, Any] | None, space: str) -> list[tuple[str, str, str | None, str]]:
    """(label, value, delta, help) of the users-task NDCG@10 the maps illustrate: ALS vs `space`, on tail items
    and on items never seen in training. Empty when the version has no evaluation."""
    if not evaluation:
        return []
    out: list[tuple[str, str, str | None, str]] = []
    for bucket, what in (("tail", "Tail items"), ("0", "Never-seen items")):
        als = evaluation.get("als", {}).get(bucket, {}).get("ndcg@10")
        value = evaluation.get(space, {}).get(bucket, {}).get("ndcg@10")
        if als is None or value is None or als != als or value != value:  # NaN: no held-out item in the bucket
            continue
        n = evaluation["als"][bucket].get("n_items", 0)
        ratio = f"{value / als:.1f}× ALS" if als > 0 else "ALS is at zero"
        out.append((f"{what} · ALS", f"{als:.3f}", None, f"NDCG@10 over {n} held-out items"))
        # The sign leads, so a space worse than ALS shows red.
        out.append((f"{what} · {space}", f"{value:.3f}", f"{value - als:+.3f} ({ratio})",
                    f"NDCG@10 over {n} held-out items; {ratio}"))
    return out
