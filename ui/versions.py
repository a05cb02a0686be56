"""Model versions panel: every version with its metrics side by side, compare two, activate one."""

from __future__ import annotations

import hashlib

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.workspace import Workspace
from core.errors import AtelierError
from core.services import models, promotion
from ui.context import current_user

BASE_COLUMNS = ["name", "created_at", "created_by", "active", "registered", "size_mb", "version"]


def versions_panel(ws: Workspace, kind: str) -> str | None:
    """Table of `kind` versions, a two-version comparison and an Activate button; returns the active version."""
    frame = models.list_versions(ws, kind)
    if frame.empty:
        st.info(f"No {kind} version yet: train one to see it here.")
        return None
    metrics = metric_columns(frame)
    st.dataframe(
        frame[BASE_COLUMNS + metrics], hide_index=True,
        column_config={"active": st.column_config.CheckboxColumn("live"),
                       "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
                       "version": st.column_config.TextColumn("version id")},
    )
    versions = list(frame["version"])
    names = dict(zip(frame["version"], frame["name"]))
    active = frame.loc[frame["active"], "version"]
    current = active.iloc[0] if len(active) else None
    # Widgets keyed by what they list: a new version or another live one resets them to the defaults below,
    # instead of keeping a choice made among the old list (an old version with Activate enabled).
    listing = f"{kind}_{hashlib.sha1('|'.join([*versions, str(current)]).encode()).hexdigest()[:10]}"

    def label(version: str) -> str:
        return f"{names.get(version, version)}{' (live)' if version == current else ''}"

    held_back = _held_back(ws, kind, versions, current)
    if held_back is not None:
        st.warning(f"**{names[held_back.candidate]}** was not made live: {held_back.reason}. It is compared with "
                   "the live version below; activate it if you want it served.", icon=":material/gpp_maybe:")
        if held_back.rows:
            st.dataframe(pd.DataFrame(held_back.rows).set_index("metric"), column_config={
                "change": st.column_config.NumberColumn(format="%+.4f"),
                "noise": st.column_config.NumberColumn("noise (±)", format="%.4f")})
    default = [held_back.candidate, current] if held_back is not None and current else versions[:2]
    picked = st.multiselect("Compare two versions", versions, default=default, max_selections=2,
                            format_func=label, key=f"compare_{listing}")
    if len(picked) == 2 and metrics:
        table = compare_table(frame, picked[0], picked[1], metrics).rename(columns=names)
        st.dataframe(table, column_config={"change": st.column_config.NumberColumn(format="%+.4f")})
        figure = compare_figure(table, [names[v] for v in picked])
        if figure is not None:
            st.plotly_chart(figure, key=f"compare_fig_{kind}")
    registered = list(frame.loc[frame["registered"], "version"])
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox("Version to serve", registered, format_func=label, key=f"activate_choice_{listing}",
                            index=registered.index(current) if current in registered else 0)
    if right.button("Activate", key=f"activate_{kind}", disabled=not registered or choice == current):
        try:
            models.activate(ws, kind, choice, by=current_user())
        except AtelierError as error:
            st.error(str(error))
        else:
            st.success(f"{names.get(choice, choice)} is now live")
            current = choice
            st.rerun()
    return current


def _held_back(ws: Workspace, kind: str, versions: list[str], current: str | None) -> promotion.Promotion | None:
    """The newest training's decision when it kept its version out of production (and that is still so)."""
    decision = promotion.latest_promotion(ws, kind)
    if decision is None or decision.activated or decision.candidate == current or decision.candidate not in versions:
        return None
    return decision


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric metric columns of a list_versions frame."""
    return [c for c in frame.columns if c not in BASE_COLUMNS + ["missing_files"]
            and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def compare_table(frame: pd.DataFrame, first: str, second: str, metrics: list[str]) -> pd.DataFrame:
    """Metrics (rows) of two versions side by side with the change from `first` to `second`."""
    by_version = frame.set_index("version")
    table = pd.DataFrame({first: by_version.loc[first, metrics].astype(float),
                          second: by_version.loc[second, metrics].astype(float)})
    table["change"] = table[second] - table[first]
    table.index.name = "metric"
    return table


def compare_figure(table: pd.DataFrame, picked: list[str]) -> go.Figure | None:
    """Grouped bars of the metrics that lie in [0, 1] (ranking/classification scores), one group per version."""
    scores = table[(table[picked].abs() <= 1.0).all(axis=1)]
    if scores.empty:
        return None
    figure = go.Figure([go.Bar(name=v, x=list(scores.index), y=list(scores[v])) for v in picked])
    figure.update_layout(barmode="group", height=280, margin=dict(l=10, r=10, t=10, b=10))
    return figure
