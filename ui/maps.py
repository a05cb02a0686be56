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
    """A map figure and, for each of its traces in order, the frame rows its points are (int64 (k,) each).

    The figure carries no per-point text or ids: a selection event's (curve_number, point_index) is mapped back
    to frame rows through `curves` on the server (`selected_rows`).
    """

    figure: go.Figure
    curves: tuple[np.ndarray, ...]


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
    names only the point's group, and the details of what is selected are listed by the page. `highlighted`
    (frame rows) are drawn on top, outlined, and the rest are dimmed.
    """
    groups = colour_groups(frame, colour_by).to_numpy()
    xy, finite = compact_layout(layout)
    sizes = marker_sizes(frame["interactions"].to_numpy())
    dim = highlighted is not None and len(highlighted) > 0
    figure, curves = go.Figure(), []
    order = ["head", "torso", "tail"] if colour_by == "bucket" else list(pd.unique(groups))
    palette = _palette(order, colour_by)
    for name in order:
        rows = np.flatnonzero((groups == name) & finite)
        if len(rows) == 0:
            continue
        figure.add_trace(go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=str(name), hoverinfo="name",
            marker=dict(size=sizes[rows], color=palette[name], opacity=0.15 if dim else 0.7, line=dict(width=0))))
        curves.append(rows)
    if dim:
        rows = np.asarray(highlighted, dtype=np.int64)
        rows = rows[finite[rows]]
        figure.add_trace(go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name="selected", hoverinfo="name",
            marker=dict(size=sizes[rows] + HIGHLIGHT_GROWTH, color="rgba(0,0,0,0)",
                        line=dict(width=2, color="black"))))
        curves.append(rows)
    figure.update_layout(title=title, height=520, margin=dict(l=10, r=10, t=40, b=10), dragmode="select",
                         legend=dict(orientation="h", y=-0.05), xaxis=dict(visible=False), yaxis=dict(visible=False))
    return ItemMap(figure, tuple(curves))


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


def selected_rows(event: Any, curves: tuple[np.ndarray, ...]) -> np.ndarray:
    """Frame rows selected on a map (st.plotly_chart's on_select event; `curves` of its `ItemMap`): int64 (k,)."""
    if not event:
        return np.zeros(0, np.int64)
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    points = selection.get("points", []) if selection else []
    rows = []
    for point in points:
        curve, index = point.get("curve_number"), point.get("point_index")
        if isinstance(curve, int) and isinstance(index, int) and 0 <= curve < len(curves) \
                and 0 <= index < len(curves[curve]):
            rows.append(int(curves[curve][index]))
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
