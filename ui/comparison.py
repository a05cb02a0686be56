"""The affinity comparison panel: every model from both sides on one held-out split, as bars and a table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.services.affinity_eval import SIDES
from ui.theme import GOLD, SECOND


def comparison_figure(table: pd.DataFrame, metric: str = "precision@10") -> go.Figure:
    """Grouped bars: one group per model, one bar per side (brands for a customer, customers for a brand)."""
    figure = go.Figure()
    for side, colour in zip(SIDES.values(), (SECOND, GOLD)):
        part = table[table["side"] == side]
        figure.add_trace(go.Bar(name=side, x=part["model"], y=part[metric], marker_color=colour,
                                text=[f"{v:.3f}" for v in part[metric]], textposition="outside"))
    figure.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=30, b=10),
                         yaxis_title=metric, legend=dict(orientation="h", y=1.12))
    return figure


def comparison_panel(table: pd.DataFrame, split: dict) -> None:
    """Both sides of every model: the chart of P@10 and the full table, best brand side named."""
    brand = table[table["side"] == SIDES["brand"]].sort_values("precision@10", ascending=False)
    user = table[table["side"] == SIDES["user"]].sort_values("precision@10", ascending=False)
    if not brand.empty and not user.empty:
        st.markdown(f"On this split the best audience ranker (customers for a brand) is **{brand['model'].iloc[0]}** "
                    f"(P@10 {brand['precision@10'].iloc[0]:.3f}); the best brand ranker for a customer is "
                    f"**{user['model'].iloc[0]}** (P@10 {user['precision@10'].iloc[0]:.3f}).")
    st.plotly_chart(comparison_figure(table), key="affinity_comparison", config={"displayModeBar": False})
    wide = table.pivot(index="model", columns="side", values=["precision@10", "recall@10", "ndcg@10"])
    wide.columns = [f"{side} · {metric}" for metric, side in wide.columns]
    st.dataframe(wide, column_config={c: st.column_config.NumberColumn(format="%.4f") for c in wide.columns})
    st.caption(f"Held-out split: {split.get('method', '?')}, {split.get('test_pairs', 0):,} test pairs; every "
               "model's budget was chosen on an inner split of the training pairs, never on the test pairs.")
