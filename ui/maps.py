"""Long-tail maps: cached model loading, WebGL UMAP scatter figures, selection helpers, product cards, eval charts."""

from __future__ import annotations

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


def map_figure(frame: pd.DataFrame, layout: np.ndarray, colour_by: str, highlighted: np.ndarray | None = None,
               title: str = "") -> go.Figure:
    """A WebGL scatter of `layout` (float32 (n, 2), rows = frame rows), one trace per colour group.

    Marker size grows with log(interactions); customdata[0] is the frame row, so a selection on this map can
    be mapped to items. `highlighted` (frame rows) are drawn on top, outlined, and the rest are dimmed.
    """
    groups = colour_groups(frame, colour_by)
    sizes = 3.0 + 2.0 * np.log1p(frame["interactions"].to_numpy(dtype=float))
    custom = np.column_stack([np.arange(len(frame)), frame["name"], frame["brand"], frame["category"],
                              frame["interactions"], frame["bucket"]])
    hover = ("<b>%{customdata[1]}</b><br>brand %{customdata[2]} · %{customdata[3]}<br>"
             "interactions %{customdata[4]} (%{customdata[5]})<extra></extra>")
    dim = highlighted is not None and len(highlighted) > 0
    figure = go.Figure()
    order = ["head", "torso", "tail"] if colour_by == "bucket" else list(pd.unique(groups))
    palette = _palette(order, colour_by)
    for name in order:
        rows = np.flatnonzero((groups == name).to_numpy())
        if len(rows) == 0:
            continue
        figure.add_trace(go.Scattergl(
            x=layout[rows, 0], y=layout[rows, 1], mode="markers", name=str(name), customdata=custom[rows],
            hovertemplate=hover,
            marker=dict(size=sizes[rows], color=palette[name], opacity=0.15 if dim else 0.7, line=dict(width=0))))
    if dim:
        rows = np.asarray(highlighted, dtype=np.int64)
        figure.add_trace(go.Scattergl(
            x=layout[rows, 0], y=layout[rows, 1], mode="markers", name="selected", customdata=custom[rows],
            hovertemplate=hover,
            marker=dict(size=sizes[rows] + 3, color="rgba(0,0,0,0)", line=dict(width=2, color="black"))))
    figure.update_layout(title=title, height=520, margin=dict(l=10, r=10, t=40, b=10), dragmode="select",
                         legend=dict(orientation="h", y=-0.05), xaxis=dict(visible=False), yaxis=dict(visible=False))
    return figure


def _palette(order: list[str], colour_by: str) -> dict[str, str]:
    if colour_by == "bucket":
        return BUCKET_COLOURS

    # Up to MAX_GROUPS hues must stay apart: the house palette has 8, so the groups take plotly's 24.
    colours = px.colors.qualitative.Dark24
    return {name: (OTHER if name == "other" else colours[i % len(colours)]) for i, name in enumerate(order)}


def selected_rows(event: Any) -> np.ndarray:
    """Frame rows selected on a map (from st.plotly_chart's on_select event): int64 (k,)."""
    if not event:
        return np.zeros(0, np.int64)
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    points = selection.get("points", []) if selection else []
    rows = [int(point["customdata"][0]) for point in points if point.get("customdata") is not None]
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
