"""Model versions panel: every version with its metrics side by side, compare two, activate one."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.workspace import Workspace
from core.errors import AtelierError
from core.services import models
from ui.context import current_user

BASE_COLUMNS = ["version", "created_at", "created_by", "active", "registered", "size_mb"]


def versions_panel(ws: Workspace, kind: str) -> str | None:
    """Table of `kind` versions, a two-version comparison and an Activate button; returns the active version."""
    frame = models.list_versions(ws, kind)
    if frame.empty:
        st.info(f"No {kind} version yet: train one to see it here.")
        return None
    metrics = metric_columns(frame)
    st.dataframe(
        frame[BASE_COLUMNS + metrics], hide_index=True,
        column_config={"active": st.column_config.CheckboxColumn("active"),
                       "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")},
    )
    versions = list(frame["version"])
    picked = st.multiselect("Compare two versions", versions, default=versions[:2], max_selections=2,
                            key=f"compare_{kind}")
    if len(picked) == 2 and metrics:
        table = compare_table(frame, picked[0], picked[1], metrics)
        st.dataframe(table, column_config={"change": st.column_config.NumberColumn(format="%+.4f")})
        figure = compare_figure(table, picked)
        if figure is not None:
            st.plotly_chart(figure, key=f"compare_fig_{kind}")
    active = frame.loc[frame["active"], "version"]
    current = active.iloc[0] if len(active) else None
    registered = list(frame.loc[frame["registered"], "version"])
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox("Version to serve", registered, key=f"activate_choice_{kind}",
                            index=registered.index(current) if current in registered else 0)
    if right.button("Activate", key=f"activate_{kind}", disabled=not registered or choice == current):
        try:
            models.activate(ws, kind, choice, by=current_user())
        except AtelierError as error:
            st.error(str(error))
        else:
            st.success(f"{kind} version {choice} is now active")
            current = choice
            st.rerun()
    return current


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
    figure = go.Figure([go.Bar(name=v[-16:], x=list(scores.index), y=list(scores[v])) for v in picked])
    figure.update_layout(barmode="group", height=280, margin=dict(l=10, r=10, t=10, b=10))
    return figure
