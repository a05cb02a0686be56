"""Campaign audience UI helpers: cached model/data loaders keyed by version, URL state, and plotly figures."""

from __future__ import annotations

import hashlib
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from core.data.workspace import Workspace
from core.services import campaigns
from core.services.audience import NO_MODEL_HELP, Audience, AudienceData, AudienceSpec, Lift, NoModelError, Ranked
from ui import models
from ui.theme import ACCENT, GOLD, GRID, SEQUENTIAL

CONTROL = GOLD  # the control group beside the target (ACCENT)


# --------------------------------------------------------------------------- cached loaders

def active_model(ws: Workspace) -> tuple[campaigns.AffinityModel, str]:
    """The active affinity model and its version (cached per version: activating a new one reloads);
    NoModelError if none."""
    loaded = models.active_model(ws, campaigns.ARTIFACT_KIND, campaigns.load_model)
    if loaded is None:
        raise NoModelError(f"workspace '{ws.name}' has no trained affinity model yet: {NO_MODEL_HELP}")
    return loaded


# `_model` (unhashed) is the active model of `version`, which is the key.
@st.cache_resource(max_entries=4, show_spinner="Reading interactions and customers…")
def _data(ws_path: str, version: str, stamps: tuple[int, ...], _model: campaigns.AffinityModel) -> AudienceData:
    return campaigns.workspace_data(Workspace.open(ws_path), _model)


def _stamps(ws: Workspace) -> tuple[int, ...]:
    return tuple((ws.path / f).stat().st_mtime_ns if (ws.path / f).is_file() else 0
                 for f in ("interactions.parquet", "customers.parquet"))


def audience_data(ws: Workspace, version: str) -> AudienceData:
    """Exclusion inputs, rebuilt when the model version or the interactions/customers files change."""
    return _data(str(ws.path), version, _stamps(ws), active_model(ws)[0])


# Keyed by what the ranking depends on; the model, data and capped ids (unhashed) are those of the key's version,
# file stamps and digest. A ranked 1M-customer base is ~12 MB, hence few entries.
@st.cache_resource(max_entries=4, show_spinner=False)
def _ranked(ws_path: str, version: str, stamps: tuple[int, ...], ranking: tuple, capped_digest: str,
            _model: campaigns.AffinityModel, _data: AudienceData, _capped: list[str],
            _spec: AudienceSpec) -> Ranked:
    return campaigns.rank_for_workspace(Workspace.open(ws_path), _spec, _model, _data, _capped)


def build_audience(ws: Workspace, spec: AudienceSpec, model: campaigns.AffinityModel, version: str,
                   data: AudienceData, exclude_id: int | None = None) -> Audience:
    """`campaigns.build_for_workspace`, with the scores, exclusions and ranking cached per model version, brands,
    blend and exclusions: changing Top N, Top %, the minimum score or the control group only cuts the ranking."""
    capped = campaigns.capped_ids(ws, spec, exclude_id=exclude_id)  # read each time: a save elsewhere changes it
    digest = hashlib.sha256("\n".join(sorted(capped)).encode("utf-8")).hexdigest() if capped else ""
    ranking = (spec.brands, spec.blend, spec.weights if spec.blend == "weighted" else None,
               tuple(astuple(spec.exclusions)))
    ranked = _ranked(str(ws.path), version, _stamps(ws), ranking, digest, model, data, capped, spec)
    return campaigns.cut_audience(model, ranked, spec)


@st.cache_resource(max_entries=2, show_spinner="Indexing interactions by customer…")
def _customer_events(ws_path: str, generation: tuple[str | None, int]) -> campaigns.CustomerEvents | None:
    return campaigns.customer_events(Workspace.open(ws_path))


def customer_events(ws: Workspace) -> campaigns.CustomerEvents | None:
    """Interactions by customer for the preview's "why", built once per interactions table: the key is the live
    table generation (and file version), so an import rebuilds it and a rerun never scans the table."""
    return _customer_events(str(ws.path), campaigns.interactions_generation(ws))


@st.cache_data(max_entries=8, show_spinner=False)
def brand_options(ws_path: str, version: str) -> list[str]:
    """Brand ids of the model `version` (the key), sorted case-insensitively for the searchable picker."""
    model, _ = active_model(Workspace.open(ws_path))
    return sorted(model.brand_ids.external.tolist(), key=str.lower)


@st.cache_data(max_entries=8, show_spinner=False)
def _member_sets(ws_path: str, campaigns_key: tuple[tuple[int, int], ...],
                 exclude_id: int | None) -> dict[str, list[str]]:
    return campaigns.member_sets(Workspace.open(ws_path), exclude_id=exclude_id)


def saved_member_sets(ws: Workspace, saved: pd.DataFrame, exclude_id: int | None = None) -> dict[str, list[str]]:
    """Target ids of every saved campaign but `exclude_id`, re-read only when a campaign is added or changed."""
    key = tuple(zip(saved["id"].astype(int), saved["version"].astype(int))) if len(saved) else ()
    return _member_sets(str(ws.path), key, exclude_id) if key else {}


# --------------------------------------------------------------------------- URL state

def url_defaults(keys: dict[str, Any]) -> None:
    """Seed widget state from the URL once per session (a shared link opens the same view)."""
    if st.session_state.get("_audience_url_loaded"):
        return
    params = st.query_params
    for key, default in keys.items():
        if key == "brand":
            value: Any = params.get_all("brand") or default
        else:
            raw = params.get(key)
            value = default if raw is None else type(default)(raw) if default is not None else raw
        st.session_state.setdefault(f"aud_{key}", value)
    st.session_state["_audience_url_loaded"] = True


def write_url(values: dict[str, Any]) -> None:
    """Put the shareable state (brands, cut-off, campaign) into the URL; drops keys whose value is None."""
    for key, value in values.items():
        if value is None or value == [] or value == "":
            if key in st.query_params:
                del st.query_params[key]
        elif isinstance(value, list):
            st.query_params[key] = [str(v) for v in value]
        else:
            st.query_params[key] = str(value)


# --------------------------------------------------------------------------- figures

def distribution_figure(audience: Audience) -> go.Figure:
    """Histogram of eligible users' scores, the part above the cut-off highlighted, the cut-off as a line."""
    # Built in one constructor call with plain dicts: every update_layout / add_vline walks plotly's validators
    # again, and on this page the figures are rebuilt on every widget change.
    counts, edges = audience.histogram
    centres = (edges[:-1] + edges[1:]) / 2
    cutoff = audience.cutoff if audience.cutoff is not None else np.inf
    # 1 = a bin above the cut-off; a two-colour scale over 0/1 draws the same as one colour string per bar, and a
    # number array is validated at once where plotly checks colour strings one by one
    above = ((edges[:-1] >= cutoff) | (edges[1:] > cutoff)).astype(np.int8)
    layout: dict[str, Any] = dict(height=280, margin=dict(l=10, r=10, t=30, b=10), bargap=0,
                                  xaxis_title=audience.score_kind, yaxis_title="users", title="Score distribution")
    if audience.cutoff is not None:
        layout["shapes"] = [dict(type="line", x0=audience.cutoff, x1=audience.cutoff, xref="x", y0=0, y1=1,
                                 yref="y domain", line=dict(dash="dash", color=ACCENT))]
        layout["annotations"] = [dict(x=audience.cutoff, xref="x", y=1, yref="y domain", showarrow=False,
                                      xanchor="left", yanchor="top", text=f"cut-off {audience.cutoff:.3f}")]
    bars = dict(type="bar", x=centres, y=counts, width=np.diff(edges),
                marker=dict(color=above, cmin=0, cmax=1, colorscale=[[0, GRID], [1, ACCENT]]),
                hovertemplate="score %{x:.3f}<br>%{y} users<extra></extra>")
    return go.Figure(data=[bars], layout=layout)


def size_curve_figure(audience: Audience) -> go.Figure:
    """Audience size if the cut-off were at each score (eligible users at or above it), current point marked."""
    curve = audience.curve
    data: list[dict[str, Any]] = [dict(type="scatter", x=curve["cutoff"].to_numpy(), y=curve["size"].to_numpy(),
                                       mode="lines", line=dict(color=ACCENT),
                                       hovertemplate="cut-off %{x:.3f}<br>%{y} users<extra></extra>")]
    if audience.cutoff is not None:
        data.append(dict(type="scatter", x=[audience.cutoff], y=[audience.size], mode="markers",
                         marker=dict(size=10, color=CONTROL), name="now",
                         hovertemplate="now: %{y} users<extra></extra>"))
    return go.Figure(data=data, layout=dict(height=280, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                                            xaxis_title=f"cut-off ({audience.score_kind})",
                                            yaxis_title="audience size", title="Size vs cut-off"))


def overlap_figure(table: pd.DataFrame, audience_size: int) -> go.Figure:
    """One bar per other saved campaign: members of this audience it already holds, labelled with the count and
    the share of this audience; the axis runs from 0 to this audience's size, so a full bar means "all of them"."""
    share = table["share_of_audience"].to_numpy(dtype=float)
    labels = [f"{int(n):,} shared · {s:.0%}" for n, s in zip(table["overlap"], share)]
    fig = go.Figure(go.Bar(x=table["overlap"], y=table["campaign"], orientation="h", marker_color=ACCENT,
                           text=labels, textposition="outside", cliponaxis=False,
                           customdata=np.stack([share, table["size"], table["jaccard"]], axis=1),
                           hovertemplate="%{y}: %{x:,} of this audience (%{customdata[0]:.1%}); that campaign has "
                                         "%{customdata[1]:,}<br>Jaccard %{customdata[2]:.3f}<extra></extra>"))
    fig.update_layout(height=max(180, 40 * len(table) + 80), margin=dict(l=10, r=90, t=30, b=10),
                      xaxis=dict(range=[0, max(int(audience_size), 1)], rangemode="nonnegative",
                                 title="members of this audience also in that campaign"),
                      yaxis=dict(autorange="reversed"), title="Overlap with other saved campaigns")
    return fig


def overlap_matrix_figure(matrix: pd.DataFrame) -> go.Figure:
    """Jaccard heat map between this audience and every saved campaign."""
    fig = go.Figure(go.Heatmap(z=matrix.values, x=matrix.columns, y=matrix.index, colorscale=SEQUENTIAL,
                               zmin=0, zmax=1, text=np.round(matrix.values, 2), texttemplate="%{text}"))
    fig.update_layout(height=max(220, 40 * len(matrix) + 80), margin=dict(l=10, r=10, t=30, b=10),
                      title="Jaccard overlap")
    return fig


def lift_figure(lifts: list[Lift]) -> go.Figure:
    """Left: target vs control rate per outcome with 95% error bars; right: the difference in percentage points
    with its 95% CI against a zero line (a bar whose interval crosses 0 is no clear effect)."""
    outcomes = [lift.outcome for lift in lifts]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Rate, target vs control", "Difference (95% CI)"),
                        horizontal_spacing=0.12)
    for name, colour, rate, ci in (("target", ACCENT, "rate_target", "rate_target_ci"),
                                   ("control", CONTROL, "rate_control", "rate_control_ci")):
        y = np.array([getattr(lift, rate) for lift in lifts])
        low, high = (np.array([getattr(lift, ci)[i] for lift in lifts]) for i in (0, 1))
        fig.add_trace(go.Bar(name=name, x=outcomes, y=y, marker_color=colour,
                             error_y=dict(type="data", symmetric=False, array=high - y, arrayminus=y - low),
                             customdata=np.stack([low, high], axis=1),
                             hovertemplate=f"{name} %{{x}}: %{{y:.1%}} (95% CI %{{customdata[0]:.1%}} – "
                                           "%{customdata[1]:.1%})<extra></extra>"), row=1, col=1)
    diff = np.array([lift.difference for lift in lifts])
    low = np.array([lift.difference_ci[0] for lift in lifts])
    high = np.array([lift.difference_ci[1] for lift in lifts])
    fig.add_trace(go.Bar(name="difference", x=outcomes, y=diff, marker_color=ACCENT, opacity=0.55, showlegend=False,
                         error_y=dict(type="data", symmetric=False, array=high - diff, arrayminus=diff - low),
                         customdata=np.stack([low, high], axis=1),
                         hovertemplate="%{x}: %{y:+.1%} (95% CI %{customdata[0]:+.1%} – %{customdata[1]:+.1%})"
                                       "<extra></extra>"), row=1, col=2)
    fig.add_hline(y=0, line_color="#888", line_width=1, row=1, col=2)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(tickformat="+.0%", title="target − control (points)", row=1, col=2)
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def top_brands_figure(top: pd.DataFrame) -> go.Figure:
    """A customer's top brands, each bar split into taste and brand bias (their own bias is the same for all)."""
    fig = go.Figure([
        go.Bar(name="taste", x=top["taste"][::-1], y=top["brand_id"][::-1], orientation="h", marker_color=ACCENT,
               hovertemplate="%{y}: taste %{x:+.2f}<extra></extra>"),
        go.Bar(name="brand bias", x=top["brand_bias"][::-1], y=top["brand_id"][::-1], orientation="h",
               marker_color=CONTROL, hovertemplate="%{y}: brand bias %{x:+.2f}<extra></extra>"),
    ])
    fig.update_layout(barmode="relative", height=max(220, 28 * len(top) + 90), margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title="score parts (their bias left out)", title="Top brands",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def pulls_figure(pulls: pd.DataFrame, brand: str, n: int = 8) -> go.Figure:
    """Their own brands that pull `brand` up most: bar = similarity × their weight, both in the hover."""
    head = pulls[pulls["pull"] > 0].head(n)[::-1]
    fig = go.Figure(go.Bar(x=head["pull"], y=head["own_brand"], orientation="h", marker_color=ACCENT,
                           customdata=np.stack([head["similarity"], head["weight"]], axis=1),
                           hovertemplate="%{y}: similarity %{customdata[0]:.2f} × their weight "
                                         "%{customdata[1]:.1f} = %{x:.2f}<extra></extra>"))
    fig.update_layout(height=max(200, 28 * len(head) + 80), margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title="similarity × their weight", rangemode="tozero"),
                      title=f"Which of their brands pull {brand} up")
    return fig
