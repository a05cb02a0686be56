"""Home page helpers: the cached workspace overview and its plotly figures (figures out, no st.* drawing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.columns import EVENTS
from core.data.workspace import TABLES, Workspace
from core.services.workspace import Overview, active_models, overview
from ui.theme import ACCENT, EMPTY, GOLD, GRID, MUTED, SECOND, SEQUENTIAL, style

PERCENT_TICKS = [0, 20, 40, 60, 80, 100]
# ticksuffix is ignored once tickvals are given; the axes end at 104 so the "100%" label is not clipped.
PERCENT_LABELS = [f"{t}%" for t in PERCENT_TICKS]


def load_overview(ws: Workspace) -> Overview:
    """The overview, recomputed only when a table file changes; active models are always read fresh."""
    cached = _cached_overview(str(ws.path), _signature(ws))
    return Overview(**{**cached.__dict__, "active_models": active_models(ws)})


@st.cache_resource(show_spinner="Summarising the workspace…", max_entries=8)
def _cached_overview(path: str, signature: tuple) -> Overview:
    return overview(Workspace.open(path))


def _signature(ws: Workspace) -> tuple:
    files = [ws.path / name for name in TABLES.values()] + [ws.path / "workspace.json"]
    return tuple((f.name, f.stat().st_mtime_ns if f.is_file() else 0) for f in files)


def popularity_figure(item_curve: pd.DataFrame, brand_curve: pd.DataFrame) -> go.Figure:
    """Share of interactions held by the top x% of items and of brands, against an even spread."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", name="even spread",
                    line=dict(color=GRID, dash="dot", width=1.5), hoverinfo="skip")
    for frame, name, colour in ((item_curve, "items", ACCENT), (brand_curve, "brands", SECOND)):
        if len(frame):
            fig.add_scatter(x=frame["top_share"] * 100, y=frame["interaction_share"] * 100, mode="lines", name=name,
                            line=dict(color=colour, width=2.5),
                            hovertemplate=f"top %{{x:.1f}}% of {name}: %{{y:.1f}}% of interactions<extra></extra>")
    fig.add_vline(x=20, line=dict(color=MUTED, width=1, dash="dash"))
    # Explicit ticks: plotly drops the 100% label at the range's end, which read as a chart cut short.
    fig.update_xaxes(title="top x% of items / brands (most popular first)", range=[0, 104],
                     tickvals=PERCENT_TICKS, ticktext=PERCENT_LABELS)
    fig.update_yaxes(title="share of interactions", range=[0, 101], ticksuffix="%")
    return style(fig, height=360)


def coverage_figure(coverage: pd.DataFrame) -> go.Figure:
    """Labelled vs missing share per attribute among the items it applies to, sorted by coverage."""
    table = coverage.sort_values("coverage_applicable").assign(attribute=lambda t: t["attribute"].str.replace("_", " "))
    labelled = table["coverage_applicable"] * 100
    fig = go.Figure()
    fig.add_bar(y=table["attribute"], x=labelled, name="labelled", orientation="h", marker_color=ACCENT,
                text=[f"{c:.0f}%" for c in labelled], textposition="inside", insidetextanchor="start",
                customdata=table[["labelled", "applies_to"]].to_numpy(),
                hovertemplate="%{y}: %{customdata[0]:,} of %{customdata[1]:,} items labelled<extra></extra>")
    fig.add_bar(y=table["attribute"], x=100 - labelled, name="missing", orientation="h", marker_color=EMPTY,
                hovertemplate="%{y}: %{x:.0f}% missing<extra></extra>")
    fig.update_layout(barmode="stack", title="Labelled, among the items each attribute applies to")
    fig.update_xaxes(title=None, range=[0, 104], tickvals=PERCENT_TICKS, ticktext=PERCENT_LABELS)
    return style(fig, height=max(240, 34 * len(table) + 80), legend=False)


def coverage_heatmap(by_group: pd.DataFrame) -> go.Figure:
    """Share labelled per attribute × category group; "n/a" where no item of the group carries the attribute."""
    values = by_group.to_numpy(dtype=float)
    shown = np.where(values > 0, values, np.nan)  # never carried in a group: it does not apply there
    fig = go.Figure(go.Heatmap(
        z=shown, x=list(by_group.columns), y=[a.replace("_", " ") for a in by_group.index], colorscale=SEQUENTIAL,
        zmin=0, zmax=1, hoverongaps=False,
        text=[[f"{v:.0%}" if v > 0 else "n/a" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} on %{x}: %{z:.0%} labelled<extra></extra>", colorbar=dict(tickformat=".0%", len=0.8),
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Labelled, by category group")
    return style(fig, height=max(240, 34 * len(by_group) + 80), legend=False)


def events_figure(events: dict[str, int]) -> go.Figure:
    """Interactions per event type as bars with their share of all interactions (not a funnel: the events are
    separate interactions, not steps one customer goes through)."""
    order = [e for e in EVENTS if e in events] + [e for e in events if e not in EVENTS]
    total = max(sum(events.values()), 1)
    fig = go.Figure(go.Bar(y=[e.replace("_", " ") for e in order], x=[events[e] for e in order], orientation="h",
                           marker_color=GOLD, text=[f"{events[e]:,} · {events[e] / total:.0%}" for e in order],
                           textposition="auto", hovertemplate="%{y}: %{x:,} interactions<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="interactions")
    return style(fig, height=60 + 40 * len(order), legend=False)
